/* fence_havm — the agent's XML metadata (fence-agents metadata.rng shape). */
#ifndef HAVM_FENCING_METADATA_H
#define HAVM_FENCING_METADATA_H

#include <stdio.h>

void fence_metadata(FILE *out);

#endif
