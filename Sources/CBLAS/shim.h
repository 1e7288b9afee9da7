// OpenBLAS's CBLAS interface (Debian libopenblas-dev, pkg-config name "openblas").
#include <cblas.h>
// Not in cblas.h on every version: thread control of OpenBLAS.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
