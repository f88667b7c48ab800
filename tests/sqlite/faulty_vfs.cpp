#include "faulty_vfs.hpp"

#include <herald/error.hpp>

#include <sqlite3.h>

#include <utility>

namespace herald::test {

/// A file of the faulty VFS: its methods and the VFS that opened it, then the default VFS's own
/// file object.
struct FaultyFile {
    sqlite3_file base;
    FaultyVfs* owner;
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

struct FaultyVfs::Methods {
    static FaultyVfs& of(sqlite3_vfs* vfs) { return *static_cast<FaultyVfs*>(vfs->pAppData); }
    static sqlite3_file* real(sqlite3_file* file) {
        return reinterpret_cast<FaultyFile*>(file)->real();
    }
    static FaultyVfs& owner(sqlite3_file* file) {
        return *reinterpret_cast<FaultyFile*>(file)->owner;
    }

    // The files' methods: writes and syncs may be refused, the rest is forwarded.
    static int close(sqlite3_file* file) { return real(file)->pMethods->xClose(real(file)); }
    static int read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
        return real(file)->pMethods->xRead(real(file), buffer, amount, offset);
    }
    static int refused(std::atomic<int>& fault, std::atomic<int>& count) {
        const int code = fault;
        if (code != SQLITE_OK)
            ++count;
        return code;
    }
    static int write(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
        FaultyVfs& self = owner(file);
        if (const int code = refused(self.write_fault_, self.refused_writes_))
            return code;
        return real(file)->pMethods->xWrite(real(file), buffer, amount, offset);
    }
    static int truncate(sqlite3_file* file, sqlite3_int64 size) {
        FaultyVfs& self = owner(file);
        if (const int code = refused(self.write_fault_, self.refused_writes_))
            return code;
        return real(file)->pMethods->xTruncate(real(file), size);
    }
    static int sync(sqlite3_file* file, int flags) {
        FaultyVfs& self = owner(file);
        if (const int code = refused(self.sync_fault_, self.refused_syncs_))
            return code;
        return real(file)->pMethods->xSync(real(file), flags);
    }
    static int file_size(sqlite3_file* file, sqlite3_int64* size) {
        return real(file)->pMethods->xFileSize(real(file), size);
    }
    static int lock(sqlite3_file* file, int level) {
        return real(file)->pMethods->xLock(real(file), level);
    }
    static int unlock(sqlite3_file* file, int level) {
        return real(file)->pMethods->xUnlock(real(file), level);
    }
    static int check_reserved_lock(sqlite3_file* file, int* out) {
        return real(file)->pMethods->xCheckReservedLock(real(file), out);
    }
    static int file_control(sqlite3_file* file, int op, void* argument) {
        return real(file)->pMethods->xFileControl(real(file), op, argument);
    }
    static int sector_size(sqlite3_file* file) {
        return real(file)->pMethods->xSectorSize(real(file));
    }
    static int device_characteristics(sqlite3_file* file) {
        return real(file)->pMethods->xDeviceCharacteristics(real(file));
    }
    static int shm_map(sqlite3_file* file, int page, int page_size, int extend,
                       void volatile** out) {
        return real(file)->pMethods->xShmMap(real(file), page, page_size, extend, out);
    }
    static int shm_lock(sqlite3_file* file, int offset, int n, int flags) {
        return real(file)->pMethods->xShmLock(real(file), offset, n, flags);
    }
    static void shm_barrier(sqlite3_file* file) { real(file)->pMethods->xShmBarrier(real(file)); }
    static int shm_unmap(sqlite3_file* file, int remove) {
        return real(file)->pMethods->xShmUnmap(real(file), remove);
    }

    // Version 2: shared memory for WAL mode, no memory-mapped reads (xFetch), so every read
    // and write passes through the methods above.
    static constexpr sqlite3_io_methods file_methods{
        .iVersion = 2,
        .xClose = close,
        .xRead = read,
        .xWrite = write,
        .xTruncate = truncate,
        .xSync = sync,
        .xFileSize = file_size,
        .xLock = lock,
        .xUnlock = unlock,
        .xCheckReservedLock = check_reserved_lock,
        .xFileControl = file_control,
        .xSectorSize = sector_size,
        .xDeviceCharacteristics = device_characteristics,
        .xShmMap = shm_map,
        .xShmLock = shm_lock,
        .xShmBarrier = shm_barrier,
        .xShmUnmap = shm_unmap,
        .xFetch = nullptr,
        .xUnfetch = nullptr,
    };

    // The VFS's methods, forwarded to the default VFS.
    static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
                    int* out_flags) {
        sqlite3_vfs* system = of(vfs).system_;
        reinterpret_cast<FaultyFile*>(file)->owner = &of(vfs);
        sqlite3_file* inner = real(file);
        inner->pMethods = nullptr;
        const int rc = system->xOpen(system, name, inner, flags, out_flags);
        // SQLite closes a file whose methods are set even when its open failed.
        file->pMethods = inner->pMethods ? &file_methods : nullptr;
        return rc;
    }
    static int remove(sqlite3_vfs* vfs, const char* name, int sync_directory) {
        return of(vfs).system_->xDelete(of(vfs).system_, name, sync_directory);
    }
    static int access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
        return of(vfs).system_->xAccess(of(vfs).system_, name, flags, out);
    }
    static int full_pathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
        return of(vfs).system_->xFullPathname(of(vfs).system_, name, size, out);
    }
    static void* dl_open(sqlite3_vfs* vfs, const char* name) {
        return of(vfs).system_->xDlOpen(of(vfs).system_, name);
    }
    static void dl_error(sqlite3_vfs* vfs, int size, char* out) {
        of(vfs).system_->xDlError(of(vfs).system_, size, out);
    }
    static void (*dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))() {
        return of(vfs).system_->xDlSym(of(vfs).system_, handle, symbol);
    }
    static void dl_close(sqlite3_vfs* vfs, void* handle) {
        of(vfs).system_->xDlClose(of(vfs).system_, handle);
    }
    static int randomness(sqlite3_vfs* vfs, int size, char* out) {
        return of(vfs).system_->xRandomness(of(vfs).system_, size, out);
    }
    static int sleep(sqlite3_vfs* vfs, int microseconds) {
        return of(vfs).system_->xSleep(of(vfs).system_, microseconds);
    }
    static int current_time(sqlite3_vfs* vfs, double* out) {
        return of(vfs).system_->xCurrentTime(of(vfs).system_, out);
    }
    static int last_error(sqlite3_vfs* vfs, int size, char* out) {
        return of(vfs).system_->xGetLastError(of(vfs).system_, size, out);
    }
    static int current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
        return of(vfs).system_->xCurrentTimeInt64(of(vfs).system_, out);
    }
};

FaultyVfs::FaultyVfs(std::string name)
    : name_(std::move(name)), system_(sqlite3_vfs_find(nullptr)), vfs_(new sqlite3_vfs{}) {
    *vfs_ = sqlite3_vfs{
        .iVersion = 2,
        .szOsFile = static_cast<int>(sizeof(FaultyFile)) + system_->szOsFile,
        .mxPathname = system_->mxPathname,
        .pNext = nullptr,
        .zName = name_.c_str(),
        .pAppData = this,
        .xOpen = Methods::open,
        .xDelete = Methods::remove,
        .xAccess = Methods::access,
        .xFullPathname = Methods::full_pathname,
        .xDlOpen = Methods::dl_open,
        .xDlError = Methods::dl_error,
        .xDlSym = Methods::dl_sym,
        .xDlClose = Methods::dl_close,
        .xRandomness = Methods::randomness,
        .xSleep = Methods::sleep,
        .xCurrentTime = Methods::current_time,
        .xGetLastError = Methods::last_error,
        .xCurrentTimeInt64 = Methods::current_time_int64,
        .xSetSystemCall = nullptr,
        .xGetSystemCall = nullptr,
        .xNextSystemCall = nullptr,
    };
    if (const int rc = sqlite3_vfs_register(vfs_.get(), /*makeDflt=*/0); rc != SQLITE_OK)
        throw Error(errc::storage_failure, "",
                    "registering the VFS " + name_ + ": " + sqlite3_errstr(rc));
}

FaultyVfs::~FaultyVfs() {
    sqlite3_vfs_unregister(vfs_.get());
}

}  // namespace herald::test
