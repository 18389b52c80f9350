/* Release of an iae_dataset's buffers. */
#include "data/dataset.h"

#include <string.h>

#include "core/core.h"

void iae_dataset_free(iae_dataset *d) {
    iae_free(d->x);
    iae_free(d->label);
    iae_free(d->cls);
    memset(d, 0, sizeof(*d));
}
