/* SPDX-License-Identifier: Apache-2.0 */
/* Attack helper for tests/integration/selfexe.sh (CVE-2019-5736): a fake ELF interpreter placed in
 * an image at the path of the host binary's PT_INTERP. When a container execs an image path that
 * resolves to /proc/self/exe while its process still runs husk, the kernel maps the host's husk
 * binary and starts this program as its interpreter. It keeps an O_PATH handle to
 * /proc/self/exe (the binary the kernel just mapped) as fd 3 and execs /bin/exe-writer, which tries
 * to reopen that handle for writing.
 * Built freestanding (-nostdlib -static-pie): as an interpreter it runs with the main program's
 * auxiliary vector, which a libc's start-up code would misread. */
#if defined(__x86_64__)
static long sys(long n, long a, long b, long c)
{
        long r;
        __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
        return r;
}
enum { NR_OPENAT = 257, NR_DUP3 = 292, NR_EXECVE = 59, NR_EXIT = 60 };
#elif defined(__aarch64__)
static long sys(long n, long a, long b, long c)
{
        register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b,
                                  x2 __asm__("x2") = c;
        __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
        return x0;
}
enum { NR_OPENAT = 56, NR_DUP3 = 24, NR_EXECVE = 221, NR_EXIT = 93 };
#else
#error "fake-interp: x86_64 or aarch64 only"
#endif

#define AT_FDCWD_ (-100)
#define O_PATH_ 010000000

void _start(void);
void _start(void)
{
        long fd = sys(NR_OPENAT, AT_FDCWD_, (long)"/proc/self/exe", O_PATH_);
        if (fd >= 0 && fd != 3)
                sys(NR_DUP3, fd, 3, 0); /* fd 3, not close-on-exec */
        char *argv[] = { (char *)"exe-writer", (char *)0 };
        char *envp[] = { (char *)0 };
        sys(NR_EXECVE, (long)"/bin/exe-writer", (long)argv, (long)envp);
        for (;;)
                sys(NR_EXIT, 127, 0, 0);
}
