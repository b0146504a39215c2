// libhdf5 (serial). Swift imports neither HDF5's macro constants (they expand to
// library globals behind H5open()) nor its unnumbered API macros, so this header
// gives each one used by the toolkit a small inline function.
#if __has_include(<hdf5/serial/hdf5.h>)
#include <hdf5/serial/hdf5.h>
#else
#include <hdf5.h>
#endif
#include "lazy.h"

static inline hid_t dkl_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t dkl_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t dkl_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t dkl_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t dkl_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t dkl_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t dkl_h5t_variable(void) { return H5T_VARIABLE; }
static inline hid_t dkl_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t dkl_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t dkl_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t dkl_h5s_all(void) { return H5S_ALL; }
static inline hid_t dkl_h5p_default(void) { return H5P_DEFAULT; }
static inline unsigned dkl_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned dkl_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned dkl_h5f_acc_excl(void) { return H5F_ACC_EXCL; }

static inline hid_t dkl_h5dopen(hid_t loc, const char *name) { return H5Dopen2(loc, name, H5P_DEFAULT); }
static inline hid_t dkl_h5gopen(hid_t loc, const char *name) { return H5Gopen2(loc, name, H5P_DEFAULT); }
static inline hid_t dkl_h5gcreate(hid_t loc, const char *name, hid_t lcpl, hid_t gcpl) {
    return H5Gcreate2(loc, name, lcpl, gcpl, H5P_DEFAULT);
}
static inline hid_t dkl_h5p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t dkl_h5dcreate(hid_t loc, const char *name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl) {
    return H5Dcreate2(loc, name, type, space, lcpl, dcpl, H5P_DEFAULT);
}
static inline hid_t dkl_h5acreate(hid_t loc, const char *name, hid_t type, hid_t space) {
    return H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
}
/// Turns off libhdf5's own error printing: the toolkit reports errors itself.
static inline void dkl_h5_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
/// H5O_TYPE_DATASET as an int, for the visit callback.
static inline int dkl_h5o_type_dataset(void) { return (int)H5O_TYPE_DATASET; }
static inline int dkl_h5o_type_group(void) { return (int)H5O_TYPE_GROUP; }

/* Visiting a file's objects and an object's attributes. The callback gets each name
 * (relative to the start) and whether it is a dataset (1), a group (0) or an attribute (2).
 * The info struct's name changed in 1.12, so the type is chosen here, not in Swift. */
typedef void (*dkl_h5_name_cb)(const char *name, int kind, void *ctx);
struct dkl_h5_visit_ctx { dkl_h5_name_cb cb; void *ctx; };
#if H5_VERSION_GE(1, 12, 0)
typedef H5O_info2_t dkl_h5o_info_t;
#else
typedef H5O_info_t dkl_h5o_info_t;
#endif
static inline herr_t dkl_h5_visit_op(hid_t obj, const char *name, const dkl_h5o_info_t *info, void *data) {
    struct dkl_h5_visit_ctx *c = (struct dkl_h5_visit_ctx *)data;
    (void)obj;
    if (info->type == H5O_TYPE_DATASET) c->cb(name, 1, c->ctx);
    else if (info->type == H5O_TYPE_GROUP) c->cb(name, 0, c->ctx);
    return 0;
}
static inline herr_t dkl_h5_visit(hid_t loc, dkl_h5_name_cb cb, void *ctx) {
    struct dkl_h5_visit_ctx c = { cb, ctx };
#if H5_VERSION_GE(1, 12, 0)
    return H5Ovisit3(loc, H5_INDEX_NAME, H5_ITER_INC, dkl_h5_visit_op, &c, H5O_INFO_BASIC);
#else
    return H5Ovisit2(loc, H5_INDEX_NAME, H5_ITER_INC, dkl_h5_visit_op, &c, H5O_INFO_BASIC);
#endif
}
static inline herr_t dkl_h5_attr_op(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    struct dkl_h5_visit_ctx *c = (struct dkl_h5_visit_ctx *)data;
    (void)loc; (void)info;
    c->cb(name, 2, c->ctx);
    return 0;
}
static inline herr_t dkl_h5_attributes(hid_t loc, dkl_h5_name_cb cb, void *ctx) {
    struct dkl_h5_visit_ctx c = { cb, ctx };
    return H5Aiterate2(loc, H5_INDEX_NAME, H5_ITER_INC, NULL, dkl_h5_attr_op, &c);
}
/** Object type at a path: 1 dataset, 0 group, -1 missing or other. */
static inline int dkl_h5_object_kind(hid_t loc, const char *path) {
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0 && !(path[0] == '/' && path[1] == 0)) return -1;
    dkl_h5o_info_t info;
#if H5_VERSION_GE(1, 12, 0)
    if (H5Oget_info_by_name3(loc, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#else
    if (H5Oget_info_by_name2(loc, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#endif
    return info.type == H5O_TYPE_DATASET ? 1 : info.type == H5O_TYPE_GROUP ? 0 : -1;
}
static inline hid_t dkl_h5s_select_set_hyperslab(hid_t space, const hsize_t *start, const hsize_t *count) {
    return H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
}
static inline hid_t dkl_h5aopen(hid_t loc, const char *name) { return H5Aopen(loc, name, H5P_DEFAULT); }
static inline hid_t dkl_h5oopen(hid_t loc, const char *name) { return H5Oopen(loc, name, H5P_DEFAULT); }
static inline hid_t dkl_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t dkl_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t dkl_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t dkl_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t dkl_h5t_std_u8le(void) { return H5T_STD_U8LE; }
#include "isolated.h"

/* The operating system's reason for the last failed call, as libhdf5's file driver
 * recorded it on the error stack ("... errno = 28, error message = 'No space left on
 * device' ..."): copied into buf, 1 when found. */
struct dkl_h5_reason { char *buf; size_t size; int found; };
static inline herr_t dkl_h5_reason_walk(unsigned n, const H5E_error2_t *e, void *data) {
    struct dkl_h5_reason *r = (struct dkl_h5_reason *)data;
    (void)n;
    const char *key = "error message = '";
    const char *at = e->desc ? strstr(e->desc, key) : NULL;
    if (at == NULL || r->found) return 0;
    at += strlen(key);
    size_t len = 0;
    while (at[len] && at[len] != '\'' && len + 1 < r->size) len++;
    memcpy(r->buf, at, len);
    r->buf[len] = 0;
    r->found = 1;
    return 0;
}
static inline int dkl_h5_system_reason(char *buf, size_t size) {
    struct dkl_h5_reason r = { buf, size, 0 };
    if (size == 0) return 0;
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, dkl_h5_reason_walk, &r);
    return r.found;
}
