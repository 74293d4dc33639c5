/* The generated header compiles as C99 and C++ with every warning as an error, and the
 * version entry points agree with the header's macros. */
#include "chinwag.h"

#include <stdio.h>
#include <string.h>

int main(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", CHINWAG_VERSION_MAJOR, CHINWAG_VERSION_MINOR,
             CHINWAG_VERSION_PATCH);
    const char *version = chinwag_version();
    if (version == NULL || strcmp(version, expected) != 0) {
        fprintf(stderr, "chinwag_version() = %s, header says %s\n", version ? version : "(null)", expected);
        return 1;
    }
    if (chinwag_abi_version() != CHINWAG_ABI_VERSION) {
        fprintf(stderr, "ABI version mismatch\n");
        return 1;
    }
    printf("c: chinwag %s, ABI %u\n", version, chinwag_abi_version());
    return 0;
}
