/* libhdf5 loaded on first use (dlopen), not linked: Debian's libhdf5 brings some fifty
 * shared libraries (libcurl, gnutls, krb5...) whose loading was most of every tool's
 * start-up, HDF5 file or not. Each function the toolkit calls is reached through a
 * pointer looked up once (dkl_p_H5Xxx(), its type the declaration's own), and the names
 * are redefined so that the C here calls through them too; libhdf5's global identifiers
 * (H5T_NATIVE_DOUBLE_g...) are looked up the same way. Swift calls dkl_p_H5Xxx()(...)
 * after HDF5File.setUp() has checked that the library loads (dkl_h5_load). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/* The library's handle (NULL when none of the names loads), and why. */
static inline void *dkl_h5_handle(void) {
    static void *handle;
    void *h = __atomic_load_n(&handle, __ATOMIC_ACQUIRE);
    if (h) return h;
    const char *names[] = { "libhdf5_serial.so.103", "libhdf5.so.103", "libhdf5_serial.so.200", "libhdf5.so.200",
                            "libhdf5_serial.so.310", "libhdf5.so.310", "libhdf5_serial.so", "libhdf5.so" };
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (h) __atomic_store_n(&handle, h, __ATOMIC_RELEASE);
    return h;
}
/* A symbol of the library: every one the toolkit uses exists in the versions it accepts
 * (dkl_h5_load checks the version first), so a missing one is a broken installation. */
static inline void *dkl_h5_sym(const char *name) {
    void *h = dkl_h5_handle();
    void *p = h ? dlsym(h, name) : NULL;
    if (!p) { fprintf(stderr, "libhdf5: no symbol %s\n", name); abort(); }
    return p;
}
#define DKL_H5_FN(name) \
    static inline __typeof__(&name) dkl_p_##name(void) { \
        static __typeof__(&name) p; \
        __typeof__(&name) q = __atomic_load_n(&p, __ATOMIC_ACQUIRE); \
        if (!q) { q = (__typeof__(&name))dkl_h5_sym(#name); __atomic_store_n(&p, q, __ATOMIC_RELEASE); } \
        return q; \
    }
#define DKL_H5_VAR(name) \
    static inline hid_t *dkl_v_##name(void) { \
        static hid_t *p; \
        hid_t *q = __atomic_load_n(&p, __ATOMIC_ACQUIRE); \
        if (!q) { q = (hid_t *)dkl_h5_sym(#name); __atomic_store_n(&p, q, __ATOMIC_RELEASE); } \
        return q; \
    }

DKL_H5_FN(H5Aclose)
DKL_H5_FN(H5Acreate2)
DKL_H5_FN(H5Adelete)
DKL_H5_FN(H5Aexists)
DKL_H5_FN(H5Aget_space)
DKL_H5_FN(H5Aget_type)
DKL_H5_FN(H5Aiterate2)
DKL_H5_FN(H5Aopen)
DKL_H5_FN(H5Aread)
DKL_H5_FN(H5Awrite)
DKL_H5_FN(H5Dclose)
DKL_H5_FN(H5Dcreate2)
DKL_H5_FN(H5Dget_create_plist)
DKL_H5_FN(H5Dget_space)
DKL_H5_FN(H5Dget_storage_size)
DKL_H5_FN(H5Dget_type)
DKL_H5_FN(H5Dopen2)
DKL_H5_FN(H5Dread)
DKL_H5_FN(H5Dvlen_reclaim)
DKL_H5_FN(H5Dwrite)
DKL_H5_FN(H5Eset_auto2)
DKL_H5_FN(H5Ewalk2)
DKL_H5_FN(H5Fclose)
DKL_H5_FN(H5Fcreate)
DKL_H5_FN(H5Fis_hdf5)
DKL_H5_FN(H5Fopen)
DKL_H5_FN(H5Gclose)
DKL_H5_FN(H5Gcreate2)
DKL_H5_FN(H5Gopen2)
DKL_H5_FN(H5Lexists)
DKL_H5_FN(H5Oclose)
DKL_H5_FN(H5Oopen)
DKL_H5_FN(H5Pclose)
DKL_H5_FN(H5Pcreate)
DKL_H5_FN(H5Pget_layout)
DKL_H5_FN(H5Pset_chunk)
DKL_H5_FN(H5Pset_create_intermediate_group)
DKL_H5_FN(H5Pset_deflate)
DKL_H5_FN(H5Pset_obj_track_times)
DKL_H5_FN(H5Pset_shuffle)
DKL_H5_FN(H5Sclose)
DKL_H5_FN(H5Screate)
DKL_H5_FN(H5Screate_simple)
DKL_H5_FN(H5Sget_simple_extent_dims)
DKL_H5_FN(H5Sget_simple_extent_ndims)
DKL_H5_FN(H5Sget_simple_extent_npoints)
DKL_H5_FN(H5Sselect_hyperslab)
DKL_H5_FN(H5Tclose)
DKL_H5_FN(H5Tcopy)
DKL_H5_FN(H5Tget_class)
DKL_H5_FN(H5Tget_cset)
DKL_H5_FN(H5Tget_order)
DKL_H5_FN(H5Tget_size)
DKL_H5_FN(H5Tis_variable_str)
DKL_H5_FN(H5Tset_cset)
DKL_H5_FN(H5Tset_size)
DKL_H5_FN(H5Tset_strpad)
DKL_H5_FN(H5open)
DKL_H5_FN(H5dont_atexit)
DKL_H5_FN(H5get_libversion)
DKL_H5_FN(H5check_version)
#if H5_VERSION_GE(1, 12, 0)
DKL_H5_FN(H5Oget_info_by_name3)
DKL_H5_FN(H5Ovisit3)
#else
DKL_H5_FN(H5Oget_info_by_name2)
DKL_H5_FN(H5Ovisit2)
#endif
DKL_H5_VAR(H5P_CLS_DATASET_CREATE_ID_g)
DKL_H5_VAR(H5P_CLS_FILE_ACCESS_ID_g)
DKL_H5_VAR(H5P_CLS_GROUP_CREATE_ID_g)
DKL_H5_VAR(H5P_CLS_LINK_CREATE_ID_g)
DKL_H5_VAR(H5T_C_S1_g)
DKL_H5_VAR(H5T_IEEE_F32LE_g)
DKL_H5_VAR(H5T_IEEE_F64LE_g)
DKL_H5_VAR(H5T_NATIVE_DOUBLE_g)
DKL_H5_VAR(H5T_NATIVE_FLOAT_g)
DKL_H5_VAR(H5T_NATIVE_INT32_g)
DKL_H5_VAR(H5T_NATIVE_INT64_g)
DKL_H5_VAR(H5T_NATIVE_UINT8_g)
DKL_H5_VAR(H5T_STD_I32LE_g)
DKL_H5_VAR(H5T_STD_I64LE_g)
DKL_H5_VAR(H5T_STD_U8LE_g)

/* Loads the library and checks that its version is the one the toolkit was built with:
 * 0 when it can be used, else a reason in buf. */
static inline int dkl_h5_load(char *buf, size_t size) {
    if (!dkl_h5_handle()) {
        snprintf(buf, size, "libhdf5 is not installed (libhdf5_serial.so.103 or libhdf5.so: %s)", dlerror());
        return -1;
    }
    /* Before any other call, which would start the library with its clean-up at exit (a
     * file whose close failed, on a full disk, made that segfault). */
    dkl_p_H5dont_atexit()();
    unsigned major = 0, minor = 0, release = 0;
    dkl_p_H5get_libversion()(&major, &minor, &release);
    /* libhdf5 aborts the process when its version is not the headers' (H5check_version). */
    if (major != H5_VERS_MAJOR || minor != H5_VERS_MINOR || release != H5_VERS_RELEASE) {
        snprintf(buf, size, "libhdf5 %u.%u.%u is installed; the toolkit was built with %d.%d.%d: build it again", major, minor, release,
                 H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);
        return -1;
    }
    return 0;
}

/* From here on, C that names an HDF5 function or global calls it through its pointer. */
#define H5P_CLS_DATASET_CREATE_ID_g (*dkl_v_H5P_CLS_DATASET_CREATE_ID_g())
#define H5P_CLS_FILE_ACCESS_ID_g (*dkl_v_H5P_CLS_FILE_ACCESS_ID_g())
#define H5P_CLS_GROUP_CREATE_ID_g (*dkl_v_H5P_CLS_GROUP_CREATE_ID_g())
#define H5P_CLS_LINK_CREATE_ID_g (*dkl_v_H5P_CLS_LINK_CREATE_ID_g())
#define H5T_C_S1_g (*dkl_v_H5T_C_S1_g())
#define H5T_IEEE_F32LE_g (*dkl_v_H5T_IEEE_F32LE_g())
#define H5T_IEEE_F64LE_g (*dkl_v_H5T_IEEE_F64LE_g())
#define H5T_NATIVE_DOUBLE_g (*dkl_v_H5T_NATIVE_DOUBLE_g())
#define H5T_NATIVE_FLOAT_g (*dkl_v_H5T_NATIVE_FLOAT_g())
#define H5T_NATIVE_INT32_g (*dkl_v_H5T_NATIVE_INT32_g())
#define H5T_NATIVE_INT64_g (*dkl_v_H5T_NATIVE_INT64_g())
#define H5T_NATIVE_UINT8_g (*dkl_v_H5T_NATIVE_UINT8_g())
#define H5T_STD_I32LE_g (*dkl_v_H5T_STD_I32LE_g())
#define H5T_STD_I64LE_g (*dkl_v_H5T_STD_I64LE_g())
#define H5T_STD_U8LE_g (*dkl_v_H5T_STD_U8LE_g())
#define H5Aclose dkl_p_H5Aclose()
#define H5Acreate2 dkl_p_H5Acreate2()
#define H5Adelete dkl_p_H5Adelete()
#define H5Aexists dkl_p_H5Aexists()
#define H5Aget_space dkl_p_H5Aget_space()
#define H5Aget_type dkl_p_H5Aget_type()
#define H5Aiterate2 dkl_p_H5Aiterate2()
#define H5Aopen dkl_p_H5Aopen()
#define H5Aread dkl_p_H5Aread()
#define H5Awrite dkl_p_H5Awrite()
#define H5Dclose dkl_p_H5Dclose()
#define H5Dcreate2 dkl_p_H5Dcreate2()
#define H5Dget_create_plist dkl_p_H5Dget_create_plist()
#define H5Dget_space dkl_p_H5Dget_space()
#define H5Dget_storage_size dkl_p_H5Dget_storage_size()
#define H5Dget_type dkl_p_H5Dget_type()
#define H5Dopen2 dkl_p_H5Dopen2()
#define H5Dread dkl_p_H5Dread()
#define H5Dvlen_reclaim dkl_p_H5Dvlen_reclaim()
#define H5Dwrite dkl_p_H5Dwrite()
#define H5Eset_auto2 dkl_p_H5Eset_auto2()
#define H5Ewalk2 dkl_p_H5Ewalk2()
#define H5Fclose dkl_p_H5Fclose()
#define H5Fcreate dkl_p_H5Fcreate()
#define H5Fis_hdf5 dkl_p_H5Fis_hdf5()
#define H5Fopen dkl_p_H5Fopen()
#define H5Gclose dkl_p_H5Gclose()
#define H5Gcreate2 dkl_p_H5Gcreate2()
#define H5Gopen2 dkl_p_H5Gopen2()
#define H5Lexists dkl_p_H5Lexists()
#define H5Oclose dkl_p_H5Oclose()
#define H5Oopen dkl_p_H5Oopen()
#define H5Pclose dkl_p_H5Pclose()
#define H5Pcreate dkl_p_H5Pcreate()
#define H5Pget_layout dkl_p_H5Pget_layout()
#define H5Pset_chunk dkl_p_H5Pset_chunk()
#define H5Pset_create_intermediate_group dkl_p_H5Pset_create_intermediate_group()
#define H5Pset_deflate dkl_p_H5Pset_deflate()
#define H5Pset_obj_track_times dkl_p_H5Pset_obj_track_times()
#define H5Pset_shuffle dkl_p_H5Pset_shuffle()
#define H5Sclose dkl_p_H5Sclose()
#define H5Screate dkl_p_H5Screate()
#define H5Screate_simple dkl_p_H5Screate_simple()
#define H5Sget_simple_extent_dims dkl_p_H5Sget_simple_extent_dims()
#define H5Sget_simple_extent_ndims dkl_p_H5Sget_simple_extent_ndims()
#define H5Sget_simple_extent_npoints dkl_p_H5Sget_simple_extent_npoints()
#define H5Sselect_hyperslab dkl_p_H5Sselect_hyperslab()
#define H5Tclose dkl_p_H5Tclose()
#define H5Tcopy dkl_p_H5Tcopy()
#define H5Tget_class dkl_p_H5Tget_class()
#define H5Tget_cset dkl_p_H5Tget_cset()
#define H5Tget_order dkl_p_H5Tget_order()
#define H5Tget_size dkl_p_H5Tget_size()
#define H5Tis_variable_str dkl_p_H5Tis_variable_str()
#define H5Tset_cset dkl_p_H5Tset_cset()
#define H5Tset_size dkl_p_H5Tset_size()
#define H5Tset_strpad dkl_p_H5Tset_strpad()
#define H5open dkl_p_H5open()
#define H5dont_atexit dkl_p_H5dont_atexit()
#define H5get_libversion dkl_p_H5get_libversion()
#define H5check_version dkl_p_H5check_version()
#if H5_VERSION_GE(1, 12, 0)
#define H5Oget_info_by_name3 dkl_p_H5Oget_info_by_name3()
#define H5Ovisit3 dkl_p_H5Ovisit3()
#else
#define H5Oget_info_by_name2 dkl_p_H5Oget_info_by_name2()
#define H5Ovisit2 dkl_p_H5Ovisit2()
#endif
