#include "promeval/loaders.h"
