/*
 * A stand-in for Windows' bcryptprimitives.dll, for the as-installed test under wine only.
 * It NEVER ships: scripts/package.sh does not put it in any artifact.
 *
 * Why: Rust's standard library (1.78 and later) takes its random bytes from
 * bcryptprimitives.dll's ProcessPrng, which every supported Windows has, but wine 8.0 (Debian 12)
 * does not; without it proverka.exe cannot start under wine. This exports ProcessPrng over
 * advapi32's RtlGenRandom (SystemFunction036), which wine has.
 *
 * Built by scripts/test-artifacts.sh:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom's real name; ntsecapi.h declares it only under a macro dance. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
