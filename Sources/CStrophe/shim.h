#ifndef CSTROPHE_SHIM_H
#define CSTROPHE_SHIM_H
// Re-exports libstrophe (Debian's libstrophe-dev 0.12) for Swift. Its API is
// plain functions and callbacks with userdata, which Swift imports directly;
// only the connection flags are macros of an unsigned-long shift, re-exported
// here as constants.
#include <strophe.h>

static const long cstrophe_flag_mandatory_tls = (long)XMPP_CONN_FLAG_MANDATORY_TLS;
static const long cstrophe_flag_trust_tls = (long)XMPP_CONN_FLAG_TRUST_TLS;
static const long cstrophe_flag_disable_sm = (long)XMPP_CONN_FLAG_DISABLE_SM;
#endif
