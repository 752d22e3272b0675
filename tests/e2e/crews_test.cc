// End-to-end tests; see tests/support/api.h.
#include <criterion/criterion.h>
