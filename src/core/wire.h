/* Moved to codec/wire.h (the native framing is a codec); kept as a forward. */
#include "codec/wire.h"
