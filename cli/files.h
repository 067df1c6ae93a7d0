// File helpers of the subcommands: the library's ReadFile.
#ifndef PROMEVAL_CLI_FILES_H_
#define PROMEVAL_CLI_FILES_H_

#include "promeval/files.h"

#endif  // PROMEVAL_CLI_FILES_H_
