#include "ccip_test_zmq.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip_sock.h"

int ccip_test_msg_recv(void *sock, int timeout_ms, ccip_test_msg *m)
{
    memset(m, 0, sizeof *m);
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return -1;
    zmq_msg_t f[CCIP_TEST_MSG_FRAMES];
    int count = ccip_sock_recv_parts(sock, f, CCIP_TEST_MSG_FRAMES, ZMQ_DONTWAIT);
    if (count < 0 || count > CCIP_TEST_MSG_FRAMES)
        return -1;
    int ok = 1;
    for (int i = 0; i < count; i++) {
        m->len[i] = zmq_msg_size(&f[i]);
        m->data[i] = malloc(m->len[i] + 1);
        if (m->data[i]) {
            memcpy(m->data[i], zmq_msg_data(&f[i]), m->len[i]);
            m->data[i][m->len[i]] = '\0';
        } else {
            ok = 0;
        }
        zmq_msg_close(&f[i]);
    }
    m->count = count;
    if (!ok) {
        ccip_test_msg_free(m);
        return -1;
    }
    return 0;
}

int ccip_test_frame_is(const ccip_test_msg *m, int i, const char *text)
{
    return i < m->count && m->len[i] == strlen(text) && memcmp(m->data[i], text, m->len[i]) == 0;
}

void ccip_test_msg_free(ccip_test_msg *m)
{
    for (int i = 0; i < CCIP_TEST_MSG_FRAMES; i++) {
        free(m->data[i]);
        m->data[i] = NULL;
    }
    m->count = 0;
}
