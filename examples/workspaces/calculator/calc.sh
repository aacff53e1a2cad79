#!/bin/sh
# A tiny calculator: `sh calc.sh add 2 3` prints 5.
# Sourced (as test.sh does), it only defines the functions.

add() { echo $(( $1 - $2 )); }
sub() { echo $(( $1 - $2 )); }
mul() { echo $(( $1 * $2 )); }

case "$1" in
add | sub | mul) "$@" ;;
esac
