/* disabled.h — the Disabled coordinator: coordination switched off. */
#ifndef AG_DISABLED_H
#define AG_DISABLED_H

#include "config/config_section.h"

extern const ag_backend_type ag_type_disabled;

#endif
