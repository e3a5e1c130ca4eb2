<?php
// The proxy's typed API from PHP, with nothing but the standard library (php-cli): one NPD
// status, and what happens when the call is not answered. Run as written by
// tests/tests/examples.rs against a proxy in sandbox mode:
//   PROVERKA_URL=http://127.0.0.1:8080 php docs/examples/typed.php

$base = getenv('PROVERKA_URL') ?: 'http://127.0.0.1:8080';
$key = getenv('PROVERKA_KEY'); // the client key, when the proxy has client keys

/** GET a typed route: [HTTP status, decoded JSON body, X-Proverka-Billed or null]. */
function proverka_get(string $base, string $path, array $query, $key): array
{
    $headers = "Accept: application/json\r\n";
    if ($key) {
        $headers .= "X-Proverka-Key: $key\r\n";
    }
    $context = stream_context_create(['http' => [
        'method' => 'GET',
        'header' => $headers,
        'ignore_errors' => true, // read the JSON body of 4xx/5xx answers too
        'timeout' => 450,        // FSSP answers can take minutes
    ]]);
    $body = file_get_contents($base . $path . '?' . http_build_query($query), false, $context);
    $status = 0;
    $billed = null;
    foreach ($http_response_header ?? [] as $line) {
        if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $m)) {
            $status = (int) $m[1];
        } elseif (stripos($line, 'X-Proverka-Billed:') === 0) {
            $billed = trim(substr($line, strlen('X-Proverka-Billed:')));
        }
    }
    return [$status, json_decode($body === false ? 'null' : $body, true), $billed];
}

[$status, $answer] = proverka_get($base, '/v1/npd', ['inn' => '540304378234'], $key);
if ($status === 200) {
    $charge = $answer['charge'];
    printf(
        "self-employed: %s (%s, %s %s)\n",
        $answer['result']['self_employed'] ? 'yes' : 'no',
        $answer['cache'],
        $charge['kind'],
        $charge['price'] ?? '-'
    );
}

// Anything but an answer says whether it cost money: `unknown` means the provider may have
// billed it and proverka did not send it again; asking again may pay again.
[$status, $error, $billed] = proverka_get($base, '/v1/npd', ['inn' => '123'], $key);
printf("%d, billed: %s, refused by the page: %s\n", $status, $billed ?? 'free', json_encode($error['error']['provider_body'] ?? null));
// What it prints against the sandbox (tests/tests/examples.rs compares):
// > self-employed: yes (MISS, charged 1.50)
// > 400, billed: free, refused by the page: {"error":"proverka: INN must be 12 digits","error_code":"proverka"}
