// CHDF5: the HDF5 C API for Swift.
// Many HDF5 "constants" are macros that call H5open() and read a global (H5T_NATIVE_FLOAT), or casts
// (H5P_DEFAULT, H5S_UNLIMITED, H5T_VARIABLE) that Swift does not import or imports with the wrong type.
// They are exposed here as static inline functions; each one that reads a library global runs H5open().
#ifndef EMERGENCE_LENS_CHDF5_SHIM_H
#define EMERGENCE_LENS_CHDF5_SHIM_H

#include <hdf5.h>
#include <string.h>

// Datatypes (predefined; never close them).
static inline hid_t lens_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t lens_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t lens_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t lens_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t lens_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t lens_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t lens_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t lens_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t lens_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t lens_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t lens_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t lens_h5t_variable(void) { return H5T_VARIABLE; }

// File access flags.
static inline unsigned lens_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned lens_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned lens_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }

// Property-list classes and defaults.
static inline hid_t lens_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t lens_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t lens_h5p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hid_t lens_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t lens_h5p_group_create(void) { return H5P_GROUP_CREATE; }

// Dataspaces.
static inline hid_t lens_h5s_all(void) { return H5S_ALL; }
static inline hsize_t lens_h5s_unlimited(void) { return H5S_UNLIMITED; }

// Errors.
static inline hid_t lens_h5e_default(void) { return H5E_DEFAULT; }

/// Initialise the library and stop it printing its error stack to stderr (we report errors ourselves).
/// In a thread-safe build (Debian's "serial" libhdf5 is built with --enable-threadsafe) the error stack and
/// its printing are per thread, so this must run once on every thread that calls HDF5: it is cheap after
/// the first call on a thread.
static inline herr_t lens_h5_init_silent(void) {
    static __thread int silenced = 0;
    if (silenced) return 0;
    /* No cleanup at exit: after a failed H5Fclose (a full disk) libhdf5's atexit handler closes the
       half-closed file again and crashes inside H5F__close_cb. Every writer closes its files itself and
       publishes by rename, so skipping the exit-time cleanup loses nothing. Only effective before the
       library first initialises; later calls change nothing. */
    (void)H5dont_atexit();
    if (H5open() < 0) return -1;
    herr_t r = H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (r >= 0) silenced = 1;
    return r;
}

// A damaged file can crash libhdf5 itself: 1.10's H5HG_read follows a global-heap index it never checks
// (found by lens's fuzz suite, a flipped byte in a string attribute). While lens is inside an HDF5 call
// with a file open read-only, SIGSEGV and SIGBUS write one error line naming that file and exit 1 instead
// of a crash dump. At any other time the handler restores the one installed before (Swift's backtracer)
// and returns, so the fault repeats into it: a crash in lens's own code is still a crash.
// Only HDF5Library.swift calls these, because each object file gets its own copy of these statics.
#include <signal.h>
#include <unistd.h>

// The guard's state lives in a function's static (Swift emits functions from this header, not globals).
typedef struct {
    char line[4200];
    volatile sig_atomic_t armed;
    int installed;
    struct sigaction before_segv, before_bus;
} lens_guard_state;

static inline lens_guard_state *lens_guard(void) {
    static lens_guard_state state;
    return &state;
}

static void lens_guard_handler(int sig) {
    lens_guard_state *g = lens_guard();
    if (g->armed && g->line[0] != '\0') {
        ssize_t written = write(2, g->line, strlen(g->line));
        (void)written;
        _exit(1);
    }
    sigaction(sig, sig == SIGSEGV ? &g->before_segv : &g->before_bus, NULL);
}

/// Installs the handler (once) and sets the line it writes; "" writes nothing.
static inline void lens_guard_set_line(const char *line) {
    lens_guard_state *g = lens_guard();
    if (!g->installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = lens_guard_handler;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, &g->before_segv);
        sigaction(SIGBUS, &sa, &g->before_bus);
        g->installed = 1;
    }
    strncpy(g->line, line, sizeof g->line - 1);
    g->line[sizeof g->line - 1] = '\0';
}

static inline void lens_guard_arm(int on) { lens_guard()->armed = on; }

typedef struct {
    char *buf;
    size_t len;
    int found;
} lens_h5_err_ctx;

static inline herr_t lens_h5_err_walk(unsigned n, const H5E_error2_t *err, void *data) {
    lens_h5_err_ctx *ctx = (lens_h5_err_ctx *)data;
    if (n != 0 || err == NULL || ctx->len == 0) return 0;
    ctx->found = 1;
    if (err->desc != NULL && err->desc[0] != '\0') {
        strncpy(ctx->buf, err->desc, ctx->len - 1);
        ctx->buf[ctx->len - 1] = '\0';
    } else {
        H5E_type_t kind;
        if (H5Eget_msg(err->min_num, &kind, ctx->buf, ctx->len) < 0) ctx->buf[0] = '\0';
    }
    return 0;
}

/// Copy the innermost (deepest, usually most specific) message of the current error stack into buf,
/// then clear the stack. Returns 1 if there was an error on the stack, 0 if none.
static inline int lens_h5_take_error(char *buf, size_t len) {
    lens_h5_err_ctx ctx = {buf, len, 0};
    if (len > 0) buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, lens_h5_err_walk, &ctx);
    H5Eclear2(H5E_DEFAULT);
    return ctx.found;
}

#endif
