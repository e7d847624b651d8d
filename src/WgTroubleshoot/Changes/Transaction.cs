using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Changes
{
    /// <summary>How one undo went.</summary>
    public enum UndoOutcome
    {
        /// <summary>Undone.</summary>
        Undone,
        /// <summary>Not undone on purpose: the target changed since (an admin's edit), so it was left alone.</summary>
        Refused,
        /// <summary>The undo was tried and failed.</summary>
        Failed,
    }

    /// <summary>The outcome of a rollback: every applied change, newest first, and what became of it.</summary>
    public sealed class RollbackResult
    {
        public List<(string Target, UndoOutcome Outcome, string Message)> Items { get; } = new List<(string, UndoOutcome, string)>();
        public bool Complete => Items.All(i => i.Outcome == UndoOutcome.Undone);
        public IEnumerable<string> Problems => Items.Where(i => i.Outcome != UndoOutcome.Undone).Select(i => i.Message);
        public bool AnyRefused => Items.Any(i => i.Outcome == UndoOutcome.Refused);

        public override string ToString()
            => Complete ? "rolled back" : "rolled back only in part: " + string.Join("; ", Problems);
    }

    /// <summary>
    /// The one transaction type for every change the module makes to the host: native commands, sysctl
    /// values (a command), file writes (sysctl.d files) and configuration edits. Every applied step keeps its
    /// undo record, whatever fails later. A failing step rolls back every step already applied in this
    /// transaction, across all backends and remedies of one repair, newest first, and the error says how the
    /// rollback went. A caller that keeps the transaction (Repair-WgIssue, when verification fails) can roll
    /// it back later. A file is only restored when it still holds what the change wrote: an edit made since
    /// is kept and the rollback says it refused.
    /// </summary>
    public sealed class Transaction
    {
        private sealed class Entry
        {
            public ChangeRecord Record;
            public string Target;
            public Func<(UndoOutcome, string)> Undo;
            public string[] UndoLines;
        }

        private readonly INativeRunner _runner;
        private readonly Action<string> _log;
        private readonly List<Entry> _applied = new List<Entry>();
        private readonly List<ChangeRecord> _records = new List<ChangeRecord>();

        public Transaction(INativeRunner runner, Action<string> log = null)
        {
            _runner = runner;
            _log = log ?? (_ => { });
        }

        public INativeRunner Runner => _runner;

        /// <summary>The records of every change applied so far and not rolled back, in order.</summary>
        public IReadOnlyList<ChangeRecord> Records => _records;

        /// <summary>True while something applied is not rolled back.</summary>
        public bool HasChanges => _applied.Count > 0;

        /// <summary>Starts the record of one change (one target); the steps applied with it fill its commands and undo.</summary>
        public ChangeRecord Begin(string target, string action, string before)
        {
            var rec = new ChangeRecord { Target = target, Action = action, Before = before, Changed = false, Timestamp = DateTime.UtcNow };
            return rec;
        }

        private void Register(ChangeRecord rec, string commandLine, Entry e)
        {
            e.Record = rec;
            _applied.Add(e);
            if (!_records.Contains(rec)) _records.Add(rec);
            rec.Changed = true;
            rec.Timestamp = DateTime.UtcNow;
            if (commandLine != null) rec.Commands = rec.Commands.Concat(new[] { commandLine }).ToArray();
            // The record's undo: newest first, each step's own commands in their order.
            rec.UndoCommands = e.UndoLines.Concat(rec.UndoCommands).ToArray();
        }

        /// <summary>
        /// Runs a command; <paramref name="undo"/> (which may depend on the output, e.g. an nft rule handle) is
        /// kept. On failure everything applied in the transaction is rolled back and the error thrown.
        /// </summary>
        public NativeResult Run(ChangeRecord rec, string what, NativeCommand command, Func<NativeResult, IEnumerable<NativeCommand>> undo)
        {
            NativeResult r;
            try
            {
                r = _runner.Run(command.Tool, command.Arguments);
            }
            catch (WgException ex)
            {
                throw Fail(ex, rec?.Target ?? command.CommandLine);
            }
            if (!r.Success) throw Fail(NativeRunner.ToError(r, what), rec?.Target ?? command.CommandLine);
            var undoCmds = (undo?.Invoke(r) ?? Enumerable.Empty<NativeCommand>()).ToList();
            Register(rec, command.CommandLine, new Entry
            {
                Target = rec.Target,
                UndoLines = undoCmds.Select(c => c.CommandLine).ToArray(),
                Undo = () =>
                {
                    var errors = new List<string>();
                    foreach (var c in undoCmds)
                    {
                        try
                        {
                            var u = _runner.Run(c.Tool, c.Arguments);
                            if (!u.Success) errors.Add(NativeRunner.ToError(u, "Undoing '" + rec.Action + "'").Message);
                        }
                        catch (WgException ex) { errors.Add(ex.Message); }
                    }
                    return errors.Count == 0 ? (UndoOutcome.Undone, rec.Target + ": undone")
                        : (UndoOutcome.Failed, $"{rec.Target}: undo failed ({string.Join("; ", errors)}); by hand: {string.Join("; ", undoCmds.Select(c => c.CommandLine))}");
                },
            });
            return r;
        }

        public NativeResult Run(ChangeRecord rec, string what, NativeCommand command, params NativeCommand[] undo)
            => Run(rec, what, command, _ => undo);

        /// <summary>
        /// Writes a whole file (a sysctl.d file) under its lock; the undo restores the previous content (or
        /// removes a file that did not exist) only while the file still holds what this change wrote.
        /// </summary>
        public void WriteFile(ChangeRecord rec, string path, string text, int mode = AtomicFile.Public)
        {
            string before;
            try
            {
                using (Config.WgConfigFile.Lock(path))
                {
                    before = File.Exists(path) ? File.ReadAllText(path) : null;
                    AtomicFile.Write(path, text, mode, keepBackup: true);
                }
            }
            catch (Exception ex) when (IsFileError(ex))
            {
                throw Fail(FileError(ex, path, "Writing"), path);
            }
            var undoLine = before == null ? "rm -f " + NativeRunner.Quote(path) : "cp -p " + NativeRunner.Quote(path + ".bak") + " " + NativeRunner.Quote(path);
            Register(rec, null, new Entry
            {
                Target = path,
                UndoLines = new[] { undoLine },
                Undo = () => RestoreText(path, text, before, mode),
            });
        }

        /// <summary>
        /// Edits a WireGuard configuration through the lossless writer (under its lock). The undo puts the
        /// bytes from before back, under the lock, only while the file still holds the bytes this change wrote;
        /// it leaves the .bak holding the version from before, so the reported undo command changes nothing more.
        /// </summary>
        internal bool EditConfig(ChangeRecord rec, string path, Action<Config.WgConfigDocument> edit)
        {
            byte[] before = null, after = null;
            bool changed;
            try
            {
                changed = Config.WgConfigFile.Edit(path, d =>
                {
                    before = d.ToBytes();
                    edit(d);
                    after = d.ToBytes();
                });
            }
            catch (WgException ex)
            {
                throw Fail(ex, path);
            }
            catch (Exception ex) when (IsFileError(ex))
            {
                throw Fail(FileError(ex, path, "Editing"), path);
            }
            if (!changed) return false;
            Register(rec, null, new Entry
            {
                Target = path,
                UndoLines = new[] { "cp -p " + NativeRunner.Quote(path + Config.WgConfigFile.BackupSuffix) + " " + NativeRunner.Quote(path) },
                Undo = () => RestoreConfig(path, after, before),
            });
            return true;
        }

        private static (UndoOutcome, string) RestoreConfig(string path, byte[] written, byte[] before)
        {
            try
            {
                var outcome = Config.WgConfigFile.RestoreIfUnchanged(path, written, before);
                return outcome
                    ? (UndoOutcome.Undone, path + ": restored")
                    : (UndoOutcome.Refused, $"{path}: not restored, because it was changed after the repair wrote it (an edit made since is kept); compare it with {path}{Config.WgConfigFile.BackupSuffix} by hand");
            }
            catch (Exception ex) when (ex is WgException || IsFileError(ex))
            {
                return (UndoOutcome.Failed, $"{path}: restoring failed: {ex.Message}");
            }
        }

        private static (UndoOutcome, string) RestoreText(string path, string written, string before, int mode)
        {
            try
            {
                using (Config.WgConfigFile.Lock(path))
                {
                    var now = File.Exists(path) ? File.ReadAllText(path) : null;
                    if (!string.Equals(now, written, StringComparison.Ordinal))
                        return (UndoOutcome.Refused, $"{path}: not restored, because it was changed after the repair wrote it (an edit made since is kept)");
                    if (before == null) File.Delete(path);
                    else AtomicFile.Write(path, before, mode, keepBackup: false);
                    return (UndoOutcome.Undone, path + ": restored");
                }
            }
            catch (Exception ex) when (ex is WgException || IsFileError(ex))
            {
                return (UndoOutcome.Failed, $"{path}: restoring failed: {ex.Message}");
            }
        }

        /// <summary>Undoes every applied change, newest first, all of them even when some fail; what could not be undone stays listed.</summary>
        public RollbackResult Rollback()
        {
            var result = new RollbackResult();
            for (int i = _applied.Count - 1; i >= 0; i--)
            {
                var e = _applied[i];
                (UndoOutcome outcome, string message) o;
                try { o = e.Undo(); }
                catch (Exception ex) { o = (UndoOutcome.Failed, $"{e.Target}: undo failed: {ex.Message}; by hand: {string.Join("; ", e.UndoLines)}"); }
                _log(o.message);
                result.Items.Add((e.Target, o.outcome, o.message));
            }
            _applied.Clear();
            _records.Clear();
            return result;
        }

        /// <summary>Rolls back what was applied and returns the error to throw, saying how the rollback went.</summary>
        private WgException Fail(WgException error, string target)
        {
            if (_applied.Count == 0)
                return new WgException(error.ErrorId, error.Category, error.Message + " Nothing had been changed before it.", error.Target ?? target, error);
            var rb = Rollback();
            var msg = error.Message + (rb.Complete
                ? " Every change already made in this repair was rolled back: " + string.Join("; ", rb.Items.Select(x => x.Target)) + "."
                : " Rolling back the changes already made " + rb + ".");
            return new WgException(error.ErrorId, error.Category, msg, error.Target ?? target, error);
        }

        private static bool IsFileError(Exception ex)
            => ex is IOException || ex is UnauthorizedAccessException || ex is System.Security.SecurityException || ex is NotSupportedException;

        private static WgException FileError(Exception ex, string path, string verb)
        {
            if (ex is WgException w) return w;
            bool denied = ex is UnauthorizedAccessException || ex is System.Security.SecurityException;
            return new WgException(denied ? ErrorIds.PermissionDenied : ErrorIds.FileWriteFailed, denied ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError,
                $"{verb} '{path}' failed{(denied ? " (permission denied; run elevated)" : "")}: {ex.Message}", path, ex);
        }

        /// <summary>A record for "already as wanted: nothing done".</summary>
        public static ChangeRecord Unchanged(string target, string action, string state, IEnumerable<string> notes = null)
            => new ChangeRecord
            {
                Target = target, Action = action, Changed = false, Before = state, After = state,
                Notes = (notes ?? Enumerable.Empty<string>()).ToArray(), Timestamp = DateTime.UtcNow,
            };
    }
}
