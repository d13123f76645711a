/* ir/diag.c: user-facing diagnostics, "sqc: error: FILE: [node NAME: ]message". */
#include "ir.h"

#include <string.h>

void diag_init(Diag *d, const char *file)
{
	memset(d, 0, sizeof *d);
	d->file = file;
	d->out = stderr;
}

int diag_verror(Diag *d, const char *node, const char *fmt, va_list ap)
{
	char msg[768];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (node && *node)
		snprintf(d->last, sizeof d->last, "%s%snode %s: %s", d->file ? d->file : "",
		         d->file ? ": " : "", node, msg);
	else
		snprintf(d->last, sizeof d->last, "%s%s%s", d->file ? d->file : "",
		         d->file ? ": " : "", msg);
	d->nerrors++;
	if (d->out)
		fprintf(d->out, "sqc: error: %s\n", d->last);
	return -1;
}

int diag_error(Diag *d, const char *node, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_verror(d, node, fmt, ap);
	va_end(ap);
	return -1;
}

void diag_note(Diag *d, const char *fmt, ...)
{
	if (!d->out)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(d->out, "sqc: note: ");
	vfprintf(d->out, fmt, ap);
	fprintf(d->out, "\n");
	va_end(ap);
}
