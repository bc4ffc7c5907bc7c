/* Umbrella header of cmsis-rtos2-sys: the CMSIS-RTOS2 API of the WS63's LiteOS. */
#include "cmsis_os2.h"
