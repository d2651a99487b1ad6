/* The plain-C floor of bench/effects: what an effect executor that runs each file append
 * exactly once, or at most once more per crash, must do at the very least. For each of n
 * jobs it appends the job's line to OUT (the effect) and then durably records that the
 * job happened: it appends a small record to JOURNAL and fdatasyncs it. After a crash, a
 * job with a record is done; one without may or may not have run, and running it again
 * is the one duplicate a crash may cause.
 *
 *   append_floor OUT JOURNAL N [--sync-data]
 *
 * OUT gets the lines the Ved program appends (`job K\n`, K = 0 .. N-1), JOURNAL one
 * record per job (`done K\n`). With --sync-data, OUT is also fdatasynced after each
 * append, before the record is written, as vedvm's System.AppendFile does (it flushes the
 * file to disk before reporting the outcome). Both files are opened once, O_APPEND, and
 * created if needed. Prints nothing; exit 0 when all N jobs were appended and recorded,
 * 1 with a message on any error, 2 on bad arguments. Built by bench/effects/run.sh with
 * `cc -O2`. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what, const char *path) {
  fprintf(stderr, "append_floor: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

/* Writes all of buf, retrying short writes and EINTR. */
static void write_all(int fd, const char *buf, size_t len, const char *path) {
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("cannot write", path);
    }
    buf += w;
    len -= (size_t)w;
  }
}

static void sync_fd(int fd, const char *path) {
  while (fdatasync(fd) != 0) {
    if (errno != EINTR) die("cannot fdatasync", path);
  }
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "--sync-data") != 0)) {
    fprintf(stderr, "usage: append_floor OUT JOURNAL N [--sync-data]\n");
    return 2;
  }
  const char *out_path = argv[1], *journal_path = argv[2];
  char *end = NULL;
  errno = 0;
  long long n = strtoll(argv[3], &end, 10);
  if (errno != 0 || end == argv[3] || *end != '\0' || n < 0) {
    fprintf(stderr, "append_floor: N must be a whole number: %s\n", argv[3]);
    return 2;
  }
  const int sync_data = argc == 5;

  int out = open(out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (out < 0) die("cannot open", out_path);
  int journal = open(journal_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (journal < 0) die("cannot open", journal_path);

  char line[64], record[64];
  for (long long k = 0; k < n; k++) {
    int len = snprintf(line, sizeof line, "job %lld\n", k);
    write_all(out, line, (size_t)len, out_path);
    if (sync_data) sync_fd(out, out_path);
    len = snprintf(record, sizeof record, "done %lld\n", k);
    write_all(journal, record, (size_t)len, journal_path);
    sync_fd(journal, journal_path);
  }
  if (close(out) != 0) die("cannot close", out_path);
  if (close(journal) != 0) die("cannot close", journal_path);
  return 0;
}
