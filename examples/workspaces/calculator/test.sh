#!/bin/sh
# The calculator's tests: `sh test.sh` exits 0 when every check passes.

. ./calc.sh

failed=0
check() {
    if [ "$2" = "$3" ]; then
        echo "ok   $1 = $3"
    else
        echo "FAIL $1: expected $3, got $2"
        failed=1
    fi
}

check "add 2 3" "$(add 2 3)" 5
check "sub 7 4" "$(sub 7 4)" 3
check "mul 4 5" "$(mul 4 5)" 20
exit $failed
