/* SPDX-License-Identifier: Apache-2.0 */
/* Writes tar archives with arbitrary (hostile) entries for the image tests.
 * usage: husk-mktar OUT.tar SPEC...   SPEC is one of
 *   file:NAME:CONTENT   dir:NAME   symlink:NAME:TARGET   hardlink:NAME:TARGET
 *   chr:NAME:MAJOR:MINOR   blk:NAME:MAJOR:MINOR   fifo:NAME   big:NAME:BYTES (zeros)
 *   suid:NAME:CONTENT (mode 04755)
 * Names are written as given ("../x", "/etc/x" included). */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static char *field(char **s)
{
        char *f = *s, *c = f ? strchr(f, ':') : NULL;
        if (c) {
                *c = '\0';
                *s = c + 1;
        } else
                *s = NULL;
        return f;
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: husk-mktar OUT.tar SPEC...\n");
                return 2;
        }
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (archive_write_open_filename(a, argv[1]) != ARCHIVE_OK) {
                fprintf(stderr, "husk-mktar: %s\n", archive_error_string(a));
                return 1;
        }
        static char zeros[65536];
        for (int i = 2; i < argc; i++) {
                char *s = strdup(argv[i]);
                char *rest = s;
                char *kind = field(&rest);
                char *name = field(&rest);
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, name ? name : "");
                archive_entry_set_mtime(e, 0, 0);
                const char *data = NULL;
                long long big = 0;
                if (strcmp(kind, "file") == 0 || strcmp(kind, "suid") == 0) {
                        data = rest ? rest : "";
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, kind[0] == 's' ? 04755 : 0644);
                        archive_entry_set_size(e, (la_int64_t)strlen(data));
                } else if (strcmp(kind, "big") == 0) {
                        big = atoll(rest ? rest : "0");
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_size(e, big);
                } else if (strcmp(kind, "dir") == 0) {
                        archive_entry_set_filetype(e, AE_IFDIR);
                        archive_entry_set_perm(e, 0755);
                } else if (strcmp(kind, "symlink") == 0) {
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_perm(e, 0777);
                        archive_entry_set_symlink(e, rest ? rest : "");
                } else if (strcmp(kind, "hardlink") == 0) {
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_hardlink(e, rest ? rest : "");
                        archive_entry_set_size(e, 0);
                } else if (strcmp(kind, "chr") == 0 || strcmp(kind, "blk") == 0) {
                        char *maj = field(&rest);
                        archive_entry_set_filetype(e, kind[0] == 'c' ? AE_IFCHR : AE_IFBLK);
                        archive_entry_set_perm(e, 0666);
                        archive_entry_set_rdev(e, makedev(atoi(maj ? maj : "0"),
                                                          atoi(rest ? rest : "0")));
                } else if (strcmp(kind, "fifo") == 0) {
                        archive_entry_set_filetype(e, AE_IFIFO);
                        archive_entry_set_perm(e, 0644);
                } else {
                        fprintf(stderr, "husk-mktar: unknown kind %s\n", kind);
                        return 2;
                }
                if (archive_write_header(a, e) != ARCHIVE_OK) {
                        fprintf(stderr, "husk-mktar: %s: %s\n", name, archive_error_string(a));
                        return 1;
                }
                if (data)
                        archive_write_data(a, data, strlen(data));
                while (big > 0) {
                        size_t n = big > (long long)sizeof(zeros) ? sizeof(zeros) : (size_t)big;
                        archive_write_data(a, zeros, n);
                        big -= (long long)n;
                }
                archive_entry_free(e);
                free(s);
        }
        archive_write_close(a);
        archive_write_free(a);
        return 0;
}
