using System;
using System.Collections.Generic;
using System.Management.Automation;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Changes
{
    /// <summary>
    /// Applies repair steps (commands or file edits) one after another and remembers how to undo each; when a later change fails, the
    /// earlier ones are undone in reverse order and the failure says so.
    /// </summary>
    public sealed class StepTransaction
    {
        private readonly List<(ChangeRecord record, Action undo)> _applied = new List<(ChangeRecord, Action)>();
        private readonly Action<string> _log;

        public StepTransaction(Action<string> log = null) { _log = log; }

        public IReadOnlyList<ChangeRecord> Applied => _applied.ConvertAll(a => a.record);

        /// <summary>Runs <paramref name="apply"/>; on success records <paramref name="record"/> with its undo.</summary>
        public void Apply(ChangeRecord record, Action apply, Action undo)
        {
            try
            {
                apply();
            }
            catch (Exception ex)
            {
                var undone = Rollback();
                var msg = $"Changing {record.Target} failed: {ex.Message}" +
                    (undone.Count > 0 ? " The changes already made were undone: " + string.Join("; ", undone) + "." : " Nothing had been changed before it.");
                var id = ex is WgException w && w.Category == ErrorCategory.PermissionDenied ? ErrorIds.PermissionDenied : ErrorIds.ChangeFailed;
                var cat = ex is WgException w2 ? w2.Category : ErrorCategory.WriteError;
                throw new WgException(id, cat, msg, record.Target, ex);
            }
            record.Changed = true;
            record.Timestamp = DateTime.UtcNow;
            record.UndoAction = undo;
            _applied.Add((record, undo));
        }

        /// <summary>Undoes every applied change, newest first; returns what was undone (and what could not be).</summary>
        public List<string> Rollback()
        {
            var done = new List<string>();
            for (int i = _applied.Count - 1; i >= 0; i--)
            {
                var (rec, undo) = _applied[i];
                try
                {
                    undo?.Invoke();
                    done.Add(rec.Target);
                    _log?.Invoke("Undone: " + rec.Target);
                }
                catch (Exception ex)
                {
                    done.Add($"{rec.Target} (undo failed: {ex.Message}; by hand: {string.Join("; ", rec.UndoCommands)})");
                }
            }
            _applied.Clear();
            return done;
        }

        /// <summary>Runs a command through the runner and throws on failure.</summary>
        public static void Run(INativeRunner runner, string what, string tool, params string[] args)
            => NativeRunner.RunChecked(runner, what, tool, args);
    }
}
