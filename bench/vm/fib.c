/* fib: naive doubly recursive fib(n); n = argv[1] (30 in the full run).
 * n comes from argv so gcc cannot evaluate the call at compile time. gcc -O2 still
 * turns one of the two recursive calls into a loop; that is what C compilers do with
 * this code and is part of the floor. */
#include <stdio.h>
#include <stdlib.h>

static long long fib(long long n) {
    if (n < 2) {
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv) {
    long long n = argc > 1 ? atoll(argv[1]) : 30;
    printf("%lld\n", fib(n));
    return 0;
}
