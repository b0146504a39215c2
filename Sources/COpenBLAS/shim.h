// OpenBLAS's CBLAS interface and LAPACKE. Debian's libopenblas carries no LAPACKE
// symbols, so the module map links liblapacke as well.
#include <cblas.h>
#include <lapacke.h>
