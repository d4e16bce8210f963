#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "remote/errmap.h"

/* docs/SEMANTICS.md, Errors: the HTTP status to errno table, row by row. */

static void test_400_is_einval(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(400), EINVAL);
}

static void test_401_is_eacces(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(401), EACCES);
}

static void test_403_is_eacces(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(403), EACCES);
}

static void test_404_is_enoent(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(404), ENOENT);
}

static void test_410_is_enoent(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(410), ENOENT);
}

static void test_409_is_ebusy(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(409), EBUSY);
}

static void test_413_is_efbig(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(413), EFBIG);
}

static void test_429_is_eagain(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(429), EAGAIN);
}

static void test_503_is_eagain(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(503), EAGAIN);
}

static void test_500_is_eio(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(500), EIO);
}

static void test_502_is_eio(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(502), EIO);
}

static void test_504_is_eio(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(504), EIO);
}

static void test_other_5xx_are_eio(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(501), EIO);
    assert_int_equal(errmap_status(505), EIO);
    assert_int_equal(errmap_status(520), EIO);
    assert_int_equal(errmap_status(599), EIO);
}

static void test_other_4xx_are_eio(void **state)
{
    (void)state;
    assert_int_equal(errmap_status(402), EIO);
    assert_int_equal(errmap_status(405), EIO);
    assert_int_equal(errmap_status(418), EIO);
    assert_int_equal(errmap_status(451), EIO);
}

static void test_every_2xx_is_success(void **state)
{
    (void)state;
    for (long s = 200; s < 300; s++)
        assert_int_equal(errmap_status(s), 0);
}

static void test_every_3xx_is_success(void **state)
{
    (void)state;
    for (long s = 300; s < 400; s++)
        assert_int_equal(errmap_status(s), 0);
}

static void test_no_status_and_1xx_are_not_success(void **state)
{
    (void)state;
    /* 0 means no HTTP answer came: never a success. */
    assert_int_not_equal(errmap_status(0), 0);
    assert_int_not_equal(errmap_status(100), 0);
    assert_int_not_equal(errmap_status(199), 0);
}

static void test_curl_ok_is_success(void **state)
{
    (void)state;
    assert_int_equal(errmap_curl(CURLE_OK), 0);
}

static void test_curl_timeout_is_etimedout(void **state)
{
    (void)state;
    assert_int_equal(errmap_curl(CURLE_OPERATION_TIMEDOUT), ETIMEDOUT);
}

static void test_curl_connect_failure_is_eio(void **state)
{
    (void)state;
    assert_int_equal(errmap_curl(CURLE_COULDNT_CONNECT), EIO);
    assert_int_equal(errmap_curl(CURLE_COULDNT_RESOLVE_HOST), EIO);
}

static void test_curl_transfer_failures_are_eio(void **state)
{
    (void)state;
    assert_int_equal(errmap_curl(CURLE_GOT_NOTHING), EIO);
    assert_int_equal(errmap_curl(CURLE_RECV_ERROR), EIO);
    assert_int_equal(errmap_curl(CURLE_SEND_ERROR), EIO);
    assert_int_equal(errmap_curl(CURLE_PARTIAL_FILE), EIO);
    assert_int_equal(errmap_curl(CURLE_SSL_CONNECT_ERROR), EIO);
    assert_int_equal(errmap_curl(CURLE_WRITE_ERROR), EIO);
}

static void test_curl_out_of_memory_is_enomem(void **state)
{
    (void)state;
    assert_int_equal(errmap_curl(CURLE_OUT_OF_MEMORY), ENOMEM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_400_is_einval),
        cmocka_unit_test(test_401_is_eacces),
        cmocka_unit_test(test_403_is_eacces),
        cmocka_unit_test(test_404_is_enoent),
        cmocka_unit_test(test_410_is_enoent),
        cmocka_unit_test(test_409_is_ebusy),
        cmocka_unit_test(test_413_is_efbig),
        cmocka_unit_test(test_429_is_eagain),
        cmocka_unit_test(test_503_is_eagain),
        cmocka_unit_test(test_500_is_eio),
        cmocka_unit_test(test_502_is_eio),
        cmocka_unit_test(test_504_is_eio),
        cmocka_unit_test(test_other_5xx_are_eio),
        cmocka_unit_test(test_other_4xx_are_eio),
        cmocka_unit_test(test_every_2xx_is_success),
        cmocka_unit_test(test_every_3xx_is_success),
        cmocka_unit_test(test_no_status_and_1xx_are_not_success),
        cmocka_unit_test(test_curl_ok_is_success),
        cmocka_unit_test(test_curl_timeout_is_etimedout),
        cmocka_unit_test(test_curl_connect_failure_is_eio),
        cmocka_unit_test(test_curl_transfer_failures_are_eio),
        cmocka_unit_test(test_curl_out_of_memory_is_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
