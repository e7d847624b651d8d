using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using WgTroubleshoot.Config;
using WgTroubleshoot.Loading;

namespace WgTroubleshoot.Remediation
{
    /// <summary>
    /// The hourly repair limit of a remediation run, kept in the policy's state file (JSON), so that it holds
    /// however often the run is started:
    /// <list type="bullet">
    /// <item>without a stateFile the limit cannot be counted: no repair runs (each is left for a human, saying
    /// why);</item>
    /// <item>the whole run holds an exclusive lock (flock on <c>&lt;stateFile&gt;.lock</c>): overlapping runs
    /// serialise, and one that cannot get the lock within <see cref="LockTimeout"/> fails with
    /// WgRemediationBusy before it changes anything;</item>
    /// <item>the state file is checked writable (rewritten) before any repair, and every repair is recorded
    /// before it starts: a repair that could not be recorded never runs;</item>
    /// <item>a state file that is not a valid history is an error (WgStateFileInvalid), never silently reset;
    /// an entry in the future is ignored with a warning (a clock that was wrong must not block repairs).</item>
    /// </list>
    /// With -WhatIf nothing is locked or written.
    /// </summary>
    public sealed class RepairLedger : IDisposable
    {
        /// <summary>How long a run waits for an overlapping run to finish.</summary>
        public static TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>How far in the future an entry may be (clock skew) before it is ignored.</summary>
        internal static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

        /// <summary>How long entries are kept.</summary>
        internal static readonly TimeSpan Keep = TimeSpan.FromDays(1);

        private readonly List<Entry> _entries = new List<Entry>();
        private readonly string _path;
        private readonly bool _whatIf;
        private IDisposable _lock;
        private Entry _reserved;

        private sealed class Entry
        {
            public string Interface, Cause;
            public DateTime Time;
        }

        private RepairLedger(string path, bool whatIf)
        {
            _path = path;
            _whatIf = whatIf;
        }

        /// <summary>The state file; null when the policy has none.</summary>
        public string Path => _path;

        /// <summary>Null when repairs can be counted; otherwise why no repair may run.</summary>
        public string Problem { get; private set; }

        /// <summary>For tests: the clock.</summary>
        internal static Func<DateTime> UtcNow { get; set; } = () => DateTime.UtcNow;

        /// <summary>
        /// Opens the ledger of a policy: takes the run lock, reads and checks the history, and (unless
        /// <paramref name="whatIf"/>) rewrites it to prove it can be written. Throws a WgException when the
        /// run must stop before it starts (busy, unreadable, corrupt, unwritable, a path that is not a state file).
        /// </summary>
        public static RepairLedger Open(RemediationPolicy policy, bool whatIf, Action<string> warn)
        {
            warn = warn ?? (_ => { });
            var path = policy?.StateFile;
            var ledger = new RepairLedger(path == null ? null : System.IO.Path.GetFullPath(path), whatIf);
            if (path == null)
            {
                ledger.Problem = "the policy has no stateFile, so the hourly repair limit cannot be counted and no repair runs (add stateFile: /var/lib/wgtroubleshoot/state.json)";
                warn("The policy has no stateFile: repairs are not counted, so none runs. Add 'stateFile:' to the policy.");
                return ledger;
            }
            try
            {
                CheckStatePath(ledger._path, policy.Path);
                if (!whatIf) ledger.TakeLock();
                ledger.Load(warn);
                if (!whatIf) ledger.Save(); // an unwritable state file stops the run here, before any repair
                return ledger;
            }
            catch
            {
                ledger.Dispose();
                throw;
            }
        }

        /// <summary>
        /// A state file must not be the policy, nor anything in the WireGuard configuration directory, nor
        /// (when it exists) anything that looks like a WireGuard configuration.
        /// </summary>
        internal static void CheckStatePath(string statePath, string policyPath)
        {
            var real = RealPath(statePath);
            if (policyPath != null && string.Equals(real, RealPath(policyPath), StringComparison.Ordinal))
                throw Invalid(statePath, "it is the policy file itself");
            if (IsInConfigDirectory(real))
                throw Invalid(statePath, $"it is in the WireGuard configuration directory {WgConfigLocation.ConfigDirectory}");
            if (LooksLikeWireGuardConfig(real))
                throw Invalid(statePath, "it holds a WireGuard configuration ([Interface] or [Peer])");
        }

        internal static string RealPath(string path)
        {
            try { return UnixFile.ResolveLinks(path); }
            catch (IOException) { return System.IO.Path.GetFullPath(path); }
        }

        internal static bool IsInConfigDirectory(string realPath)
        {
            var dir = RealPath(WgConfigLocation.ConfigDirectory).TrimEnd('/', '\\');
            var d = System.IO.Path.GetDirectoryName(realPath);
            return d != null && string.Equals(d.TrimEnd('/', '\\'), dir, StringComparison.Ordinal);
        }

        internal static bool LooksLikeWireGuardConfig(string realPath)
        {
            try
            {
                if (!File.Exists(realPath)) return false;
                var info = new FileInfo(realPath);
                if (info.Length > 16 * 1024 * 1024) return false;
                foreach (var raw in File.ReadLines(realPath))
                {
                    var line = raw.Trim();
                    if (string.Equals(line, "[Interface]", StringComparison.OrdinalIgnoreCase) || string.Equals(line, "[Peer]", StringComparison.OrdinalIgnoreCase))
                        return true;
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            return false;
        }

        /// <summary>
        /// Why <paramref name="reportPath"/> must not be written as a report (it is the policy, the state file,
        /// in the WireGuard configuration directory or a WireGuard configuration), or null when it may.
        /// </summary>
        public static string ReportPathProblem(string reportPath, string policyPath, string stateFile)
        {
            if (string.IsNullOrEmpty(reportPath)) return null;
            var real = RealPath(reportPath);
            if (policyPath != null && string.Equals(real, RealPath(policyPath), StringComparison.Ordinal)) return "it is the policy file";
            if (stateFile != null && (string.Equals(real, RealPath(stateFile), StringComparison.Ordinal) || string.Equals(real, RealPath(stateFile + ".lock"), StringComparison.Ordinal)))
                return "it is the state file of the policy";
            if (IsInConfigDirectory(real)) return $"it is in the WireGuard configuration directory {WgConfigLocation.ConfigDirectory}";
            if (LooksLikeWireGuardConfig(real)) return "it holds a WireGuard configuration ([Interface] or [Peer])";
            return null;
        }

        /// <summary>The error for a refused -ReportPath (WgInvalidArgument, InvalidArgument).</summary>
        public static WgException ReportPathError(string reportPath, string problem)
            => new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument,
                $"-ReportPath '{reportPath}' is refused: {problem}. Nothing was run and no report was written; give a file of its own.", reportPath);

        private static WgException Invalid(string path, string why)
            => new WgException(ErrorIds.StateFileInvalid, ErrorCategory.InvalidData,
                $"'{path}' cannot be the state file: {why}. Nothing was changed; set stateFile to a file of its own (/var/lib/wgtroubleshoot/state.json).", path);

        private void TakeLock()
        {
            var dir = System.IO.Path.GetDirectoryName(_path);
            var lockPath = _path + ".lock";
            try
            {
                if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir)) Directory.CreateDirectory(dir);
                _lock = FileLock.TryAcquire(lockPath, LockTimeout);
            }
            catch (ReadOnlyFileSystemException ex)
            {
                throw new WgException(ErrorIds.FileWriteFailed, ErrorCategory.WriteError,
                    $"The state file '{_path}' is on a read-only file system: the hourly repair limit cannot be recorded, so nothing was changed.", _path, ex);
            }
            catch (UnsafePathException ex)
            {
                throw new WgException(ErrorIds.UnsafePath, ErrorCategory.SecurityError, $"The run lock of '{_path}' cannot be taken: {ex.Message} Nothing was changed.", _path, ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied, $"The run lock '{lockPath}' cannot be taken: permission denied. Nothing was changed.", _path, ex);
            }
            catch (IOException ex)
            {
                throw new WgException(ErrorIds.FileWriteFailed, ErrorCategory.WriteError, $"The run lock '{lockPath}' cannot be taken: {ex.Message} Nothing was changed.", _path, ex);
            }
            if (_lock == null)
                throw new WgException(ErrorIds.RemediationBusy, ErrorCategory.ResourceBusy,
                    $"Another remediation run holds '{lockPath}' (waited {LockTimeout.TotalSeconds:0} s): this run stopped before changing anything.", _path);
        }

        private void Load(Action<string> warn)
        {
            if (!File.Exists(_path)) return;
            string text;
            try
            {
                if (new FileInfo(_path).Length > 8 * 1024 * 1024) throw Corrupt("it is larger than 8 MiB");
                text = File.ReadAllText(_path, new UTF8Encoding(false, true));
            }
            catch (DecoderFallbackException ex) { throw Corrupt("it is not UTF-8 text", ex); }
            catch (UnauthorizedAccessException ex)
            {
                throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied, $"The state file '{_path}' cannot be read: permission denied. Nothing was changed.", _path, ex);
            }
            catch (IOException ex) { throw Corrupt("it cannot be read: " + ex.Message, ex); }

            YamlTreeNode root;
            try { root = DependencyLoader.Engine.ParseYaml(text); }
            catch (YamlSyntaxException ex) { throw Corrupt($"line {ex.Line}, column {ex.Column}: {ex.Problem}", ex); }
            if (root == null) throw Corrupt("it is empty");
            if (root.Kind != YamlTreeKind.Mapping) throw Corrupt("it is not a mapping with 'repairs'");
            var repairs = root.Entries.Where(e => e.Key.Kind == YamlTreeKind.Scalar && e.Key.Value == "repairs").Select(e => e.Value).FirstOrDefault();
            if (repairs == null || repairs.Kind != YamlTreeKind.Sequence) throw Corrupt("it has no list 'repairs'");
            var now = UtcNow();
            int future = 0;
            foreach (var item in repairs.Items)
            {
                if (item.Kind != YamlTreeKind.Mapping) throw Corrupt($"line {item.Line}: a repair entry is not a mapping");
                string V(string k) => item.Entries.Where(e => e.Key.Value == k && e.Value.Kind == YamlTreeKind.Scalar).Select(e => e.Value.Value).FirstOrDefault();
                var iface = V("interface");
                var timeText = V("time");
                if (string.IsNullOrEmpty(iface) || !DateTime.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                    throw Corrupt($"line {item.Line}: a repair entry needs 'interface' and a 'time'");
                if (t > now + FutureTolerance) { future++; continue; }
                _entries.Add(new Entry { Interface = iface, Cause = V("cause"), Time = t });
            }
            if (future > 0)
                warn($"The state file '{_path}' has {future} repair(s) dated in the future (the clock was wrong?); they are ignored and dropped.");
        }

        private WgException Corrupt(string why, Exception inner = null)
            => new WgException(ErrorIds.StateFileInvalid, ErrorCategory.InvalidData,
                $"The state file '{_path}' is not a valid repair history ({why}); it is not reset on its own. Nothing was changed: fix or remove it.", _path, inner);

        /// <summary>Repairs recorded for <paramref name="iface"/> since <paramref name="since"/>.</summary>
        public int CountSince(string iface, DateTime since) => _entries.Count(e => e.Interface == iface && e.Time >= since);

        /// <summary>
        /// Records a repair before it runs; false (with the reason) when it cannot be recorded, and then the
        /// repair must not run. Call <see cref="Complete"/> after it.
        /// </summary>
        public bool TryReserve(string iface, string cause, out string why)
        {
            why = null;
            if (Problem != null) { why = Problem; return false; }
            if (_whatIf) { why = "not recorded under -WhatIf"; return false; }
            var e = new Entry { Interface = iface, Cause = cause, Time = UtcNow() };
            _entries.Add(e);
            try
            {
                Save();
            }
            catch (WgException ex)
            {
                _entries.Remove(e);
                why = ex.Message;
                return false;
            }
            _reserved = e;
            return true;
        }

        /// <summary>After a reserved repair: one that changed nothing is taken out of the count again.</summary>
        public void Complete(bool changed)
        {
            var e = _reserved;
            _reserved = null;
            if (e == null || changed) return;
            _entries.Remove(e);
            try { Save(); }
            catch (WgException) { /* counted once too often: the safe side */ }
        }

        private void Save()
        {
            var cutoff = UtcNow() - Keep;
            var keep = _entries.Where(e => e.Time >= cutoff).Select(e => (object)new Dictionary<string, object>
            {
                ["interface"] = e.Interface, ["cause"] = e.Cause, ["time"] = e.Time.ToString("o", CultureInfo.InvariantCulture),
            }).ToList();
            try
            {
                Changes.AtomicFile.WriteBytes(_path, new UTF8Encoding(false).GetBytes(DependencyLoader.Engine.Serialize(new Dictionary<string, object> { ["repairs"] = keep }, true)),
                    Changes.AtomicFile.Private, keepBackup: false, holdsLock: _lock != null);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                var message = $"The state file '{_path}' cannot be written ({ex.Message}): the hourly repair limit cannot be recorded, so no repair runs.";
                if (ex is UnauthorizedAccessException) throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied, message, _path, ex);
                throw new WgException(ErrorIds.FileWriteFailed, ErrorCategory.WriteError, message, _path, ex);
            }
        }

        /// <summary>Releases the run lock.</summary>
        public void Dispose()
        {
            _lock?.Dispose();
            _lock = null;
        }
    }
}
