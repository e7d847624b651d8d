using System;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace WgTroubleshoot.Config
{
    /// <summary>
    /// The few libc calls the module needs to create and lock files safely on Linux and macOS: open(2) with
    /// O_CREAT|O_EXCL|O_NOFOLLOW and the final mode (so no file ever exists with a wider mode, and no
    /// symbolic link is followed), flock(2), rename(2), statx(2)/lstat for type, mode and owner, chmod(2).
    /// On Windows (and any platform whose flag values are not known here) the callers fall back to the
    /// framework's FileStream, which is what can be done there.
    /// </summary>
    internal static class UnixFile
    {
        internal const int OwnerReadWrite = 0x180; // 0600

        internal static bool IsWindows => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        private static readonly bool IsLinux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);
        private static readonly bool IsMac = RuntimeInformation.IsOSPlatform(OSPlatform.OSX);

        /// <summary>The open(2) flag values of this platform, or null when they are not known here.</summary>
        private sealed class Flags
        {
            public int WriteOnly, ReadWrite, ReadOnly, Create, Exclusive, NoFollow, CloseOnExec, Directory;
            public int ELoop, EExist, EWouldBlock, ERofs, EAcces, EPerm, ENoent, EIntr, ENotDir, EIsDir, EXdev;
        }

        private static readonly Flags Native = MakeFlags();

        private static Flags MakeFlags()
        {
            if (IsLinux)
            {
                var arch = RuntimeInformation.ProcessArchitecture;
                bool arm = arch == Architecture.Arm || arch == Architecture.Arm64;
                if (!arm && arch != Architecture.X64 && arch != Architecture.X86) return null;
                return new Flags
                {
                    ReadOnly = 0, WriteOnly = 1, ReadWrite = 2, Create = 0x40, Exclusive = 0x80, CloseOnExec = 0x80000,
                    NoFollow = arm ? 0x8000 : 0x20000, Directory = arm ? 0x4000 : 0x10000,
                    ELoop = 40, EExist = 17, EWouldBlock = 11, ERofs = 30, EAcces = 13, EPerm = 1, ENoent = 2, EIntr = 4, ENotDir = 20, EIsDir = 21, EXdev = 18,
                };
            }
            if (IsMac)
                return new Flags
                {
                    ReadOnly = 0, WriteOnly = 1, ReadWrite = 2, Create = 0x200, Exclusive = 0x800, CloseOnExec = 0x1000000,
                    NoFollow = 0x100, Directory = 0x100000,
                    ELoop = 62, EExist = 17, EWouldBlock = 35, ERofs = 30, EAcces = 13, EPerm = 1, ENoent = 2, EIntr = 4, ENotDir = 20, EIsDir = 21, EXdev = 18,
                };
            return null;
        }

        /// <summary>True when open/flock/rename go through libc here (Linux x86/x64/arm/arm64, macOS).</summary>
        internal static bool HasNativeFiles => Native != null;

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern int OpenLibc(string path, int flags, int mode);

        [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
        private static extern int FlockLibc(SafeFileHandle fd, int operation);

        [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
        private static extern int RenameLibc(string from, string to);

        [DllImport("libc", EntryPoint = "unlink", SetLastError = true)]
        private static extern int UnlinkLibc(string path);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        private static extern int FsyncLibc(SafeFileHandle fd);

        [DllImport("libc", EntryPoint = "geteuid")]
        private static extern uint GetEuidLibc();

        [DllImport("libc", EntryPoint = "readlink", SetLastError = true)]
        private static extern long ReadlinkLibc(string path, byte[] buffer, long size);

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern int StatxLibc(int dirfd, string path, int flags, uint mask, byte[] buffer);

        [DllImport("libc", EntryPoint = "chmod", SetLastError = true)]
        private static extern int ChmodLibc(string path, uint mode);

        [DllImport("libc.so.6", EntryPoint = "chmod", SetLastError = true)]
        private static extern int ChmodGlibc(string path, uint mode);

        /// <summary>What lstat says about a path, without following a final symbolic link.</summary>
        internal sealed class Status
        {
            /// <summary>The S_IFMT bits: regular file, directory, symbolic link...</summary>
            public int Type;
            /// <summary>The permission bits (07777).</summary>
            public int Mode;
            public uint Uid;
            public bool IsSymlink => Type == 0xA000;
            public bool IsRegular => Type == 0x8000;
            public bool IsDirectory => Type == 0x4000;
        }

        /// <summary>
        /// lstat of <paramref name="path"/> (type, permission bits, owner), or null when it does not exist or
        /// cannot be told here (Windows, macOS: statx is Linux's; there only the type and mode are known).
        /// </summary>
        internal static Status LStat(string path)
        {
            if (IsWindows) return null;
            if (IsLinux && Native != null)
            {
                var buf = new byte[256];
                int rc;
                try
                {
                    // AT_FDCWD, AT_SYMLINK_NOFOLLOW, STATX_TYPE|STATX_MODE|STATX_UID
                    rc = StatxLibc(-100, path, 0x100, 0x1 | 0x2 | 0x8, buf);
                }
                catch (Exception ex) when (ex is EntryPointNotFoundException || ex is DllNotFoundException)
                {
                    rc = -2;
                }
                if (rc == 0)
                {
                    // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode
                    uint uid = BitConverter.ToUInt32(buf, 20);
                    int mode = BitConverter.ToUInt16(buf, 28);
                    return new Status { Type = mode & 0xF000, Mode = mode & 0xFFF, Uid = uid };
                }
                if (rc == -1) return null;
            }
            // Fallback: the framework's view (no owner; the type from the attributes).
            try
            {
                var attrs = File.GetAttributes(path);
                int type = (attrs & FileAttributes.ReparsePoint) != 0 ? 0xA000 : (attrs & FileAttributes.Directory) != 0 ? 0x4000 : 0x8000;
                return new Status { Type = type, Mode = TryGetMode(path) ?? 0, Uid = EffectiveUid };
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return null;
            }
        }

        /// <summary>The effective uid of this process (0 on Windows).</summary>
        internal static uint EffectiveUid
        {
            get
            {
                if (IsWindows) return 0;
                try { return GetEuidLibc(); }
                catch (Exception ex) when (ex is EntryPointNotFoundException || ex is DllNotFoundException) { return 0; }
            }
        }

        /// <summary>The target a symbolic link points to, as written in the link; null when it is not a link.</summary>
        internal static string ReadLink(string path)
        {
            if (IsWindows || Native == null) return null;
            var buf = new byte[4096];
            long n = ReadlinkLibc(path, buf, buf.Length);
            if (n <= 0 || n >= buf.Length) return null;
            return new System.Text.UTF8Encoding(false, false).GetString(buf, 0, (int)n);
        }

        /// <summary>
        /// Follows a chain of symbolic links (at most 40, as the kernel does) to the final path, made absolute.
        /// Returns <paramref name="path"/> itself when it is not a link.
        /// </summary>
        internal static string ResolveLinks(string path)
        {
            var current = Path.GetFullPath(path);
            for (int i = 0; i < 40; i++)
            {
                var st = LStat(current);
                if (st == null || !st.IsSymlink) return current;
                var target = ReadLink(current);
                if (target == null) return current;
                current = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(Path.GetDirectoryName(current) ?? "/", target));
            }
            throw new IOException($"'{path}' is a chain of more than 40 symbolic links.");
        }

        /// <summary>
        /// Creates a new file that must not exist yet, with its final <paramref name="mode"/> (O_CREAT|O_EXCL|
        /// O_NOFOLLOW|O_CLOEXEC: a symbolic link or any existing file in its place is an error), open for
        /// writing. On Windows: FileMode.CreateNew.
        /// </summary>
        internal static FileStream CreateNew(string path, int mode)
        {
            if (Native == null)
            {
                var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                if (!IsWindows) SetMode(path, mode);
                return fs;
            }
            var handle = Open(path, Native.WriteOnly | Native.Create | Native.Exclusive | Native.NoFollow | Native.CloseOnExec, mode, "create");
            return new FileStream(handle, FileAccess.Write, 1);
        }

        /// <summary>
        /// Opens (creating it 0600 when missing) a lock file for reading and writing without following a
        /// symbolic link. A link in its place, or anything but a regular file, is refused.
        /// </summary>
        internal static SafeFileHandle OpenLockFile(string path)
        {
            var st = LStat(path);
            if (st != null && st.IsSymlink)
                throw new UnsafePathException($"The lock file '{path}' is a symbolic link; it is not followed. Remove it (rm '{path}') and try again.");
            if (st != null && !st.IsRegular)
                throw new UnsafePathException($"The lock file '{path}' is not a regular file; remove it and try again.");
            return Open(path, Native.ReadWrite | Native.Create | Native.NoFollow | Native.CloseOnExec, OwnerReadWrite, "lock");
        }

        private static SafeFileHandle Open(string path, int flags, int mode, string what)
        {
            while (true)
            {
                int fd = OpenLibc(path, flags, mode);
                if (fd >= 0) return new SafeFileHandle((IntPtr)fd, true);
                int errno = Marshal.GetLastWin32Error();
                if (errno == Native.EIntr) continue;
                throw ErrnoException(errno, what, path);
            }
        }

        /// <summary>The exception for an errno: permission errors as UnauthorizedAccessException, the rest as IOException (or its subclasses).</summary>
        internal static Exception ErrnoException(int errno, string what, string path)
        {
            if (Native != null)
            {
                if (errno == Native.ELoop)
                    return new UnsafePathException($"'{path}' is a symbolic link; it is not followed (cannot {what} it).");
                if (errno == Native.ERofs)
                    return new ReadOnlyFileSystemException($"Cannot {what} '{path}': the file system is read-only (EROFS).");
                if (errno == Native.EAcces || errno == Native.EPerm)
                    return new UnauthorizedAccessException($"Cannot {what} '{path}': permission denied (errno {errno}).");
                if (errno == Native.ENoent)
                    return new DirectoryNotFoundException($"Cannot {what} '{path}': a directory of the path does not exist.");
                if (errno == Native.EExist)
                    return new IOException($"Cannot {what} '{path}': it already exists.");
            }
            return new IOException($"Cannot {what} '{path}' (errno {errno}).");
        }

        /// <summary>
        /// Tries flock(LOCK_EX|LOCK_NB). False when another process (or another open of this process) holds it;
        /// an error (EROFS is not one flock gives, but EBADF, ENOLCK...) throws.
        /// </summary>
        internal static bool TryLockExclusive(SafeFileHandle handle, string path)
        {
            while (true)
            {
                if (FlockLibc(handle, 2 | 4) == 0) return true;
                int errno = Marshal.GetLastWin32Error();
                if (errno == Native.EIntr) continue;
                if (errno == Native.EWouldBlock) return false;
                throw ErrnoException(errno, "lock", path);
            }
        }

        /// <summary>fsync of an open file (errors ignored: the rename that follows still gives old-or-new).</summary>
        internal static void Fsync(FileStream fs)
        {
            if (Native == null) { fs.Flush(true); return; }
            fs.Flush();
            FsyncLibc(fs.SafeFileHandle);
        }

        /// <summary>fsync of a directory, so a rename in it survives a crash (best effort).</summary>
        internal static void FsyncDirectory(string dir)
        {
            if (Native == null || string.IsNullOrEmpty(dir)) return;
            int fd = OpenLibc(dir, Native.ReadOnly | Native.Directory | Native.CloseOnExec, 0);
            if (fd < 0) return;
            using (var h = new SafeFileHandle((IntPtr)fd, true)) FsyncLibc(h);
        }

        /// <summary>rename(2): replaces <paramref name="to"/> (a file or a symbolic link, which is not followed) atomically.</summary>
        internal static void Rename(string from, string to)
        {
            if (Native == null)
            {
                if (File.Exists(to)) File.Replace(from, to, null, ignoreMetadataErrors: true);
                else File.Move(from, to);
                return;
            }
            if (RenameLibc(from, to) != 0) throw ErrnoException(Marshal.GetLastWin32Error(), "rename a file to", to);
        }

        /// <summary>unlink(2): removes a file or the symbolic link itself. False when it was not there.</summary>
        internal static bool Unlink(string path)
        {
            if (Native == null)
            {
                if (!File.Exists(path)) return false;
                File.Delete(path);
                return true;
            }
            if (UnlinkLibc(path) == 0) return true;
            int errno = Marshal.GetLastWin32Error();
            if (errno == Native.ENoent) return false;
            throw ErrnoException(errno, "remove", path);
        }

        /// <summary>
        /// The permission bits of a file (0644 → 0x1A4), or null on Windows or when the runtime cannot tell.
        /// </summary>
        internal static int? TryGetMode(string path)
        {
            if (IsWindows) return null;
            if (IsLinux && Native != null)
            {
                var st = LStatNoFallback(path);
                if (st != null) return st.Mode;
            }
            var method = typeof(System.IO.File).GetMethod("GetUnixFileMode", new[] { typeof(string) });
            if (method == null) return null;
            try
            {
                return Convert.ToInt32(method.Invoke(null, new object[] { path }), System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (System.Reflection.TargetInvocationException)
            {
                return null;
            }
        }

        private static Status LStatNoFallback(string path)
        {
            var buf = new byte[256];
            try
            {
                if (StatxLibc(-100, path, 0, 0x1 | 0x2 | 0x8, buf) != 0) return null; // follows links, as stat(2)
            }
            catch (Exception ex) when (ex is EntryPointNotFoundException || ex is DllNotFoundException)
            {
                return null;
            }
            int mode = BitConverter.ToUInt16(buf, 28);
            return new Status { Type = mode & 0xF000, Mode = mode & 0xFFF, Uid = BitConverter.ToUInt32(buf, 20) };
        }

        /// <summary>Sets the file mode; throws UnauthorizedAccessException or IOException with errno when it fails.</summary>
        internal static void SetMode(string path, int mode)
        {
            if (IsWindows) return;
            int rc;
            try
            {
                rc = ChmodLibc(path, (uint)mode);
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException)
            {
                rc = ChmodGlibc(path, (uint)mode);
            }
            if (rc != 0)
            {
                int errno = Marshal.GetLastWin32Error();
                var message = $"chmod {Convert.ToString(mode, 8)} '{path}' failed (errno {errno}).";
                if (errno == 1 || errno == 13) throw new UnauthorizedAccessException(message);
                throw new System.IO.IOException(message);
            }
        }
    }

    /// <summary>A path the module refuses to use as it is: a symbolic link where none may be, not a regular file.</summary>
    internal sealed class UnsafePathException : IOException
    {
        public UnsafePathException(string message) : base(message) { }
    }

    /// <summary>The file system holding the path is mounted read-only (EROFS).</summary>
    internal sealed class ReadOnlyFileSystemException : IOException
    {
        public ReadOnlyFileSystemException(string message) : base(message) { }
    }
}
