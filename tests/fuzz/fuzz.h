/* tests/fuzz/fuzz.h: what every libFuzzer target shares. The readers take paths, so each
 * input is written to a file in a private temporary folder (one per process, removed at
 * exit). Diagnostics go to /dev/null unless SQC_FUZZ_VERBOSE is set (to read a
 * reproducer's message). */
#ifndef SQC_FUZZ_H
#define SQC_FUZZ_H

#include "ir/ir.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[512];
static char fz_files[4][600];
static int fz_nfiles;
static FILE *fz_null;

static void fz_cleanup(void)
{
	for (int i = 0; i < fz_nfiles; i++)
		unlink(fz_files[i]);
	if (*fz_dir)
		rmdir(fz_dir);
}

/* Writes data to NAME in the private folder; returns its path (static storage). */
static const char *fz_write(const char *name, const uint8_t *data, size_t size)
{
	if (!*fz_dir) {
		const char *t = getenv("TMPDIR");
		snprintf(fz_dir, sizeof fz_dir, "%s/sqc-fuzz-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(fz_dir)) {
			perror("mkdtemp");
			abort();
		}
		atexit(fz_cleanup);
	}
	int i = 0;
	while (i < fz_nfiles && strcmp(strrchr(fz_files[i], '/') + 1, name))
		i++;
	if (i == fz_nfiles) {
		if (fz_nfiles == (int)(sizeof fz_files / sizeof fz_files[0]))
			abort();
		snprintf(fz_files[fz_nfiles++], sizeof fz_files[0], "%s/%s", fz_dir, name);
	}
	FILE *f = fopen(fz_files[i], "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
		perror(fz_files[i]);
		abort();
	}
	return fz_files[i];
}

static void fz_diag(Diag *d, const char *file)
{
	diag_init(d, file);
	if (!getenv("SQC_FUZZ_VERBOSE")) {
		if (!fz_null && !(fz_null = fopen("/dev/null", "w")))
			abort();
		d->out = fz_null;
	}
}

#endif
