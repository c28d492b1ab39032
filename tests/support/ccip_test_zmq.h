/*
 * ccip_test_zmq: the test's side of a ZeroMQ conversation with the unit
 * under test (not part of the product): a whole multi-part message received
 * into copies that a test can compare frame by frame.
 *
 *   ccip_test_msg m;
 *   assert_int_equal(ccip_test_msg_recv(router, 2000, &m), 0);
 *   assert_true(ccip_test_frame_is(&m, 1, CCIP_MDP_WORKER));
 *   ccip_test_msg_free(&m);
 */
#ifndef CCIP_TEST_ZMQ_H
#define CCIP_TEST_ZMQ_H

#include <stddef.h>

#define CCIP_TEST_MSG_FRAMES 8 /* frames kept; a message with more is refused */

/* One received message; frames are copies, NUL-terminated for convenience. */
typedef struct {
    int count;                                 /* frames received */
    unsigned char *data[CCIP_TEST_MSG_FRAMES]; /* each malloc'd, len + 1 bytes */
    size_t len[CCIP_TEST_MSG_FRAMES];          /* each frame's size */
} ccip_test_msg;

/* Waits up to timeout_ms for one message on sock and copies its frames into
 * m. Returns 0, or -1 when none came in time, it had more than
 * CCIP_TEST_MSG_FRAMES frames or memory ran out (m is then empty). */
int ccip_test_msg_recv(void *sock, int timeout_ms, ccip_test_msg *m);

/* 1 when frame i of m holds exactly the bytes of the string text. */
int ccip_test_frame_is(const ccip_test_msg *m, int i, const char *text);

/* Frees the copies; safe twice. */
void ccip_test_msg_free(ccip_test_msg *m);

#endif
