/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper run INSIDE a container (linked statically): tries to push a command into the input
 * queue of the terminal on fd 0 with TIOCSTI (CVE-2017-5226) and reports the result.
 * Prints "TIOCSTI ok" when the injection worked, "TIOCSTI failed: <strerror>" otherwise,
 * "not a tty" when fd 0 is not a terminal. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
        if (!isatty(0)) {
                puts("not a tty");
                return 2;
        }
        const char *inject = "echo INJECTED\n";
        for (const char *p = inject; *p; p++) {
                if (ioctl(0, TIOCSTI, p) < 0) {
                        printf("TIOCSTI failed: %s\n", strerror(errno));
                        return 1;
                }
        }
        puts("TIOCSTI ok");
        return 0;
}
