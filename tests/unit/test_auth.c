#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "remote/auth.h"

static void test_recovery_code_shapes(void **state)
{
    (void)state;
    assert_true(auth_is_recovery_code("xjc8-j333"));
    assert_true(auth_is_recovery_code("XJC8J333"));
    assert_false(auth_is_recovery_code("123456"));
    assert_false(auth_is_recovery_code("xjc8-j33"));
    assert_false(auth_is_recovery_code("xjc8_j333"));
    assert_false(auth_is_recovery_code("xjc8-j333-"));
    assert_false(auth_is_recovery_code("xjc-8j333"));
    assert_false(auth_is_recovery_code(""));
    assert_false(auth_is_recovery_code(NULL));
}

/* VRChat offers ["totp","otp"] to an authenticator account: a recovery code goes to otp. */
static void test_recovery_code_is_usable_when_totp_is_offered(void **state)
{
    (void)state;
    unsigned both = AUTH_2FA_TOTP | AUTH_2FA_OTP;
    assert_int_equal(auth_method_for_code(both, "xjc8-j333"), AUTH_2FA_OTP);
    assert_int_equal(auth_method_for_code(AUTH_2FA_TOTP, "xjc8-j333"), AUTH_2FA_OTP);
    assert_int_equal(auth_method_for_code(both, "123456"), AUTH_2FA_TOTP);
    assert_int_equal(auth_method_for_code(AUTH_2FA_OTP, "xjc8j333"), AUTH_2FA_OTP);
}

static void test_other_codes_follow_what_is_offered(void **state)
{
    (void)state;
    assert_int_equal(auth_method_for_code(AUTH_2FA_EMAIL, "123456"), AUTH_2FA_EMAIL);
    /* an e-mail account has no recovery codes: the code is the e-mailed one, whatever it is */
    assert_int_equal(auth_method_for_code(AUTH_2FA_EMAIL, "abcd-efgh"), AUTH_2FA_EMAIL);
    assert_int_equal(auth_method_for_code(AUTH_2FA_TOTP | AUTH_2FA_EMAIL, "123456"), AUTH_2FA_TOTP);
    assert_int_equal(auth_method_for_code(0, "123456"), AUTH_2FA_OTP);
    assert_int_equal(auth_method_for_code(AUTH_2FA_TOTP, NULL), AUTH_2FA_TOTP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery_code_shapes),
        cmocka_unit_test(test_recovery_code_is_usable_when_totp_is_offered),
        cmocka_unit_test(test_other_codes_follow_what_is_offered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
