using System;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace WgTroubleshoot.Config
{
    /// <summary>
    /// An exclusive writer lock on a lock file: flock(LOCK_EX) on a file opened with O_NOFOLLOW (a symbolic
    /// link in its place is refused, never followed or chmodded), created 0600 when missing. A read-only file
    /// system or a permission problem is an error at once; only a lock held by someone else is waited for.
    /// On Windows: a FileStream with FileShare.None. The lock file stays in place (deleting it would let two
    /// writers lock two different files).
    /// </summary>
    internal static class FileLock
    {
        /// <summary>
        /// Takes the lock, waiting at most <paramref name="timeout"/> for another holder. Null when it stayed
        /// busy; throws <see cref="UnsafePathException"/>, <see cref="ReadOnlyFileSystemException"/>,
        /// UnauthorizedAccessException, DirectoryNotFoundException or IOException when it cannot be had at all.
        /// </summary>
        internal static IDisposable TryAcquire(string lockPath, TimeSpan timeout)
        {
            var sw = Stopwatch.StartNew();
            int delay = 5;
            if (!UnixFile.HasNativeFiles)
            {
                while (true)
                {
                    try
                    {
                        return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                    }
                    catch (IOException) when (!(sw.Elapsed >= timeout))
                    {
                        Thread.Sleep(delay);
                        delay = Math.Min(delay * 2, 50);
                    }
                    catch (IOException ex) when (!(ex is FileNotFoundException) && !(ex is DirectoryNotFoundException))
                    {
                        return null;
                    }
                }
            }
            var handle = UnixFile.OpenLockFile(lockPath);
            try
            {
                while (true)
                {
                    if (UnixFile.TryLockExclusive(handle, lockPath)) return handle;
                    if (sw.Elapsed >= timeout) { handle.Dispose(); return null; }
                    Thread.Sleep(delay);
                    delay = Math.Min(delay * 2, 50);
                }
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
    }
}
