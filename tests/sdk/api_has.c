/*
 * The ABI rules of <dengon/plugin.h>, checked:
 *   - at compile time, the layout of ABI 1.0 (dg_host_api members in order,
 *     one pointer apart; the descriptor; the numeric values of every
 *     constant), and the members each later minor appended right after it
 *     (1.1: publish_ordered; 1.2: rpc_reply_json). Appending members keeps these true; reordering,
 *     inserting, removing or renumbering fails the build of this test;
 *   - at run time, DG_API_HAS against host tables truncated to every possible
 *     size (an older host), a larger one (a newer host), NULL members and a
 *     NULL table.
 */
#include <dengon/plugin.h>

#include <stdio.h>
#include <string.h>

#define FN_SIZE sizeof(void (*)(void))

/* Every minor-0 member of dg_host_api, in declaration order. */
#define DG_API_MINOR0_MEMBERS(X)                                                                   \
    X(log)                                                                                         \
    X(topic_declare)                                                                               \
    X(publish)                                                                                     \
    X(subscribe)                                                                                   \
    X(intercept)                                                                                   \
    X(unsubscribe)                                                                                 \
    X(timer_add)                                                                                   \
    X(timer_cancel)                                                                                \
    X(io_watch)                                                                                    \
    X(io_update)                                                                                   \
    X(io_close)                                                                                    \
    X(post)                                                                                        \
    X(rpc_register)                                                                                \
    X(rpc_reply)                                                                                   \
    X(rpc_fail)                                                                                    \
    X(service_provide)                                                                             \
    X(service_require)                                                                             \
    X(config_get)                                                                                  \
    X(config_get_int)                                                                              \
    X(config_get_bool)                                                                             \
    X(identity)                                                                                    \
    X(data_dir)                                                                                    \
    X(plugin_id)

/* Members added by minor 1, in declaration order, right after minor 0's. */
#define DG_API_MINOR1_MEMBERS(X) X(publish_ordered)

/* Members added by minor 2, right after minor 1's. */
#define DG_API_MINOR2_MEMBERS(X) X(rpc_reply_json)

/* Every member this header knows, in order. */
#define DG_API_MEMBERS(X)                                                                          \
    DG_API_MINOR0_MEMBERS(X)                                                                       \
    DG_API_MINOR1_MEMBERS(X)                                                                       \
    DG_API_MINOR2_MEMBERS(X)

enum api_member_index {
#define AS_INDEX(m) IDX_##m,
    DG_API_MEMBERS(AS_INDEX)
#undef AS_INDEX
        N_MEMBERS
};

#define COUNT_ONE(m) +1
enum { N_MINOR0_MEMBERS = 0 DG_API_MINOR0_MEMBERS(COUNT_ONE) };
#undef COUNT_ONE

/* ---- compile time: the ABI 1.0 layout ---- */

_Static_assert(DG_ABI_MAJOR == 1, "this file freezes ABI major 1; a new major needs a new one");
_Static_assert(offsetof(dg_host_api, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(dg_host_api, abi_major) == 4, "abi_major at 4");
_Static_assert(offsetof(dg_host_api, abi_minor) == 6, "abi_minor at 6");
_Static_assert(sizeof(((dg_host_api *)0)->struct_size) == 4, "struct_size is 32-bit");
#define CHECK_OFFSET(m)                                                                            \
    _Static_assert(offsetof(dg_host_api, m) == 8 + (size_t)IDX_##m * FN_SIZE,                      \
                   "dg_host_api." #m " moved: members may only be appended");                      \
    _Static_assert(sizeof(((dg_host_api *)0)->m) == FN_SIZE, "dg_host_api." #m " is a pointer");
DG_API_MEMBERS(CHECK_OFFSET)
#undef CHECK_OFFSET
_Static_assert(sizeof(dg_host_api) >= 8 + N_MINOR0_MEMBERS * FN_SIZE, "minor 0 table complete");

/* ---- compile time: what ABI 1.1 appended ---- */

_Static_assert(DG_ABI_MINOR >= 1, "this header has the minor-1 members");
_Static_assert(offsetof(dg_host_api, publish_ordered) == 8 + N_MINOR0_MEMBERS * FN_SIZE,
               "publish_ordered is the first member after minor 0");

/* ---- compile time: what ABI 1.2 appended ---- */

_Static_assert(DG_ABI_MINOR >= 2, "this header has the minor-2 members");
_Static_assert(offsetof(dg_host_api, rpc_reply_json) == 8 + (N_MINOR0_MEMBERS + 1) * FN_SIZE,
               "rpc_reply_json is the first member after minor 1");
_Static_assert(DG_ABI_MINOR > 2 || sizeof(dg_host_api) == 8 + N_MEMBERS * FN_SIZE,
               "minor 2 has exactly these members; a new member needs DG_ABI_MINOR + 1");

_Static_assert(offsetof(dg_plugin_descriptor, struct_size) == 0, "descriptor.struct_size");
_Static_assert(offsetof(dg_plugin_descriptor, abi_major) == 4, "descriptor.abi_major");
_Static_assert(offsetof(dg_plugin_descriptor, abi_minor) == 6, "descriptor.abi_minor");
_Static_assert(offsetof(dg_plugin_descriptor, id) == 8, "descriptor.id");
_Static_assert(offsetof(dg_plugin_descriptor, start) == 8 + FN_SIZE, "descriptor.start");
_Static_assert(offsetof(dg_plugin_descriptor, stop) == 8 + 2 * FN_SIZE, "descriptor.stop");
_Static_assert(offsetof(dg_plugin_descriptor, reserved) == 8 + 3 * FN_SIZE, "descriptor.reserved");
_Static_assert(sizeof(dg_plugin_descriptor) == 8 + 7 * FN_SIZE, "descriptor size");

_Static_assert(DG_OK == 0 && DG_STOP == 1 && DG_ERR == -1 && DG_EINVAL == -2 && DG_ENOMEM == -3 &&
                   DG_EEXIST == -4 && DG_ENOENT == -5 && DG_EDENIED == -6 && DG_EAGAIN == -7 &&
                   DG_ERESTART == -8,
               "dg_status values are ABI");
_Static_assert(DG_LOG_ERROR == 0 && DG_LOG_WARN == 1 && DG_LOG_INFO == 2 && DG_LOG_DEBUG == 3,
               "dg_log_level values are ABI");
_Static_assert(DG_OVERFLOW_BLOCK == 0 && DG_OVERFLOW_DROP_OLDEST == 1 && DG_OVERFLOW_COALESCE == 2,
               "dg_overflow values are ABI");
_Static_assert(DG_IO_READ == 1 && DG_IO_WRITE == 2, "io event bits are ABI");
_Static_assert(DG_RPC_PARSE_ERROR == -32700 && DG_RPC_INVALID_REQUEST == -32600 &&
                   DG_RPC_METHOD_NOT_FOUND == -32601 && DG_RPC_INVALID_PARAMS == -32602 &&
                   DG_RPC_INTERNAL_ERROR == -32603 && DG_RPC_DENIED == -32001 &&
                   DG_RPC_FAILED == -32000,
               "RPC error codes are ABI");

/* ---- run time: DG_API_HAS ---- */

static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                    \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* How many of the members this header knows DG_API_HAS reports present. */
static int count_present(const dg_host_api *api)
{
    int n = 0;
#define COUNT(m) n += DG_API_HAS(api, m) ? 1 : 0;
    DG_API_MEMBERS(COUNT)
#undef COUNT
    return n;
}

static void dummy(void) {}

int main(void)
{
    /* A host table with every member set (to a dummy: it is never called). */
    dg_host_api full;
    memset(&full, 0, sizeof full);
    full.struct_size = (uint32_t)sizeof full;
    full.abi_major = DG_ABI_MAJOR;
    full.abi_minor = DG_ABI_MINOR;
    {
        void (*fn)(void) = dummy;
        unsigned char *base = (unsigned char *)&full;
        for (size_t off = 8; off + FN_SIZE <= sizeof full; off += FN_SIZE)
            memcpy(base + off, &fn, sizeof fn);
    }

    EXPECT(count_present(&full) == N_MEMBERS);
    EXPECT(!DG_API_HAS((const dg_host_api *)NULL, log));
    EXPECT(!DG_API_HAS((const dg_host_api *)NULL, publish_ordered));

    /* An older host: its table ends after member k, for every k. */
    dg_host_api older = full;
    older.struct_size = 8; /* header only */
    EXPECT(count_present(&older) == 0);
#define TRUNCATE_AFTER(m)                                                                          \
    older.struct_size = (uint32_t)(offsetof(dg_host_api, m) + sizeof older.m);                     \
    EXPECT(DG_API_HAS(&older, m));                                                                 \
    EXPECT(count_present(&older) == IDX_##m + 1);                                                  \
    older.struct_size = (uint32_t)(offsetof(dg_host_api, m) + sizeof older.m - 1);                 \
    EXPECT(!DG_API_HAS(&older, m));                                                                \
    EXPECT(count_present(&older) == IDX_##m);
    DG_API_MEMBERS(TRUNCATE_AFTER)
#undef TRUNCATE_AFTER

    /* A 1.1 host: publish_ordered but no rpc_reply_json. */
    dg_host_api v11 = full;
    v11.struct_size = (uint32_t)(8 + (N_MINOR0_MEMBERS + 1) * FN_SIZE);
    v11.abi_minor = 1;
    EXPECT(DG_API_HAS(&v11, publish_ordered));
    EXPECT(!DG_API_HAS(&v11, rpc_reply_json));

    /* A 1.0 host: every minor-0 member, no publish_ordered. */
    dg_host_api v10 = full;
    v10.struct_size = (uint32_t)(8 + N_MINOR0_MEMBERS * FN_SIZE);
    v10.abi_minor = 0;
    EXPECT(DG_API_HAS(&v10, plugin_id));
    EXPECT(!DG_API_HAS(&v10, publish_ordered));
    EXPECT(count_present(&v10) == N_MINOR0_MEMBERS);

    /* A newer host: a bigger table; everything we know of is there. */
    dg_host_api newer = full;
    newer.struct_size = (uint32_t)(sizeof newer + 16 * FN_SIZE);
    EXPECT(count_present(&newer) == N_MEMBERS);

    /* A member inside the table but left NULL by the host is absent. */
    dg_host_api holes = full;
    holes.data_dir = NULL;
    EXPECT(!DG_API_HAS(&holes, data_dir));
    EXPECT(DG_API_HAS(&holes, plugin_id));
    EXPECT(count_present(&holes) == N_MEMBERS - 1);
    holes.publish_ordered = NULL;
    EXPECT(!DG_API_HAS(&holes, publish_ordered));
    EXPECT(count_present(&holes) == N_MEMBERS - 2);

    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok: ABI %d.%d layout frozen, DG_API_HAS right for %d table sizes\n", DG_ABI_MAJOR,
           DG_ABI_MINOR, 2 * N_MEMBERS + 4);
    return 0;
}
