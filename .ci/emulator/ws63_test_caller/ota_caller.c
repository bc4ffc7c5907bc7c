/*
 * Emulator lane only (.ci/emulate): calls the firmware's C entry point `ota_task_start()`
 * (include/ota_task.h) from C, as the SDK's C code would, for the on-target tests.
 *
 * ws63_test_call_ota_task_start(out): calls ota_task_start() twice in a row and stores the
 * two results in out[0] and out[1]. Returns 0. With no OTA running, the first call starts the
 * OTA thread (0) and the second is refused as busy (-1).
 */
#include <stdint.h>

int ota_task_start(void);
int ws63_test_call_ota_task_start(int out[2]);

int ws63_test_call_ota_task_start(int out[2])
{
    int32_t first;
    int32_t second;

    first = (int32_t)ota_task_start();
    second = (int32_t)ota_task_start();
    out[0] = (int)first;
    out[1] = (int)second;
    return 0;
}
