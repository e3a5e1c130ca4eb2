# shellcheck shell=bash disable=SC2154
# Sourced by hit-path.sh and profiles.sh: `per_hit BIN` prints the instructions per drop-in
# FSSP hit of a hit-path binary on its serving thread, counted by callgrind as
# (I(2N) - I(N)) / N. Needs $N and a scratch directory $work.
per_hit() {
  local bin=$1 a b
  for n in "$N" "$((2 * N))"; do
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.$n" "$bin" "$n" >/dev/null 2>&1
  done
  a=$(grep -h '^summary' "$work/cg.$N"-01 | awk '{print $2}')
  b=$(grep -h '^summary' "$work/cg.$((2 * N))"-01 | awk '{print $2}')
  rm -f "$work"/cg.*
  echo $(((b - a) / N))
}
