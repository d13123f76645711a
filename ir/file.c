/* ir/file.c: output files written atomically (ARCHITECTURE.md: never a partial output
 * file). The one writer of every file sqc produces: models, headers, IR text, reports,
 * tensors. */
#include "ir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "<path>.tmp<pid>.<k>" with O_EXCL, mode 0666 minus the umask (what fopen gives; mkstemp
 * would make it 0600): the pid keeps processes apart, k threads of one process and stale
 * files. Returns the fd, or -1 with errno. */
static int open_temp(const char *path, char **tmp)
{
	size_t pl = strlen(path) + 48;
	*tmp = xmalloc(pl);
	for (int k = 0; k < 1000; k++) {
		snprintf(*tmp, pl, "%s.tmp%ld.%d", path, (long)getpid(), k);
		int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

FILE *ir_out_open(OutFile *o, const char *path, Diag *d)
{
	memset(o, 0, sizeof *o);
	o->path = path;
	int fd = open_temp(path, &o->tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		free(o->tmp);
		o->tmp = NULL;
		diag_error(d, NULL, "cannot write %s: %s", path, strerror(e));
		return NULL;
	}
	o->f = f;
	return f;
}

void ir_out_discard(OutFile *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	memset(o, 0, sizeof *o);
}

int ir_out_commit(OutFile *o, unsigned mode, Diag *d)
{
	int e = 0;
	if (ferror(o->f))
		e = errno ? errno : EIO;
	if (!e && (fflush(o->f) || fsync(fileno(o->f))))
		e = errno;
	if (!e && mode && fchmod(fileno(o->f), (mode_t)mode))
		e = errno;
	int rc = fclose(o->f);
	o->f = NULL;
	if (!e && rc)
		e = errno;
	if (!e && rename(o->tmp, o->path))
		e = errno;
	if (e) {
		const char *path = o->path;
		ir_out_discard(o);
		return diag_error(d, NULL, "cannot write %s: %s", path, strerror(e));
	}
	free(o->tmp);
	memset(o, 0, sizeof *o);
	return 0;
}

int ir_write_file(const char *path, const void *data, size_t n, unsigned mode, Diag *d)
{
	OutFile o;
	FILE *f = ir_out_open(&o, path, d);
	if (!f)
		return -1;
	if (n && fwrite(data, 1, n, f) != n) {
		int e = errno ? errno : EIO;
		ir_out_discard(&o);
		return diag_error(d, NULL, "cannot write %s: %s", path, strerror(e));
	}
	return ir_out_commit(&o, mode, d);
}
