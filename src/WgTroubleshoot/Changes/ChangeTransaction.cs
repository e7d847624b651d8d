using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Changes
{
    /// <summary>
    /// Runs the commands of one change in order and remembers how to undo each. When a command fails, what was
    /// already applied is undone (newest first) before the error is thrown, so nothing is left half-changed.
    /// </summary>
    public sealed class ChangeTransaction
    {
        private readonly INativeRunner _runner;
        private readonly string _what;
        private readonly List<List<NativeCommand>> _undo = new List<List<NativeCommand>>();
        private readonly List<NativeCommand> _done = new List<NativeCommand>();

        public ChangeTransaction(INativeRunner runner, string what)
        {
            _runner = runner;
            _what = what;
        }

        /// <summary>Commands run so far.</summary>
        public IReadOnlyList<NativeCommand> Done => _done;

        /// <summary>The undo commands, newest step first, each step's commands in their own order.</summary>
        public List<NativeCommand> UndoCommands => Enumerable.Reverse(_undo).SelectMany(x => x).ToList();

        public NativeResult Apply(NativeCommand command, IEnumerable<NativeCommand> undo)
            => Apply(command, _ => undo);

        /// <summary>Runs the command; its undo may depend on its output (an nft rule handle).</summary>
        public NativeResult Apply(NativeCommand command, Func<NativeResult, IEnumerable<NativeCommand>> undo)
        {
            NativeResult r;
            try
            {
                r = _runner.Run(command.Tool, command.Arguments);
            }
            catch (WgException)
            {
                Rollback();
                throw;
            }
            if (!r.Success)
            {
                var error = NativeRunner.ToError(r, _what);
                var rollbackFailures = Rollback();
                if (rollbackFailures.Count > 0)
                    throw new WgException(error.ErrorId, error.Category,
                        error.Message + " Undoing the steps already applied also failed: " + string.Join("; ", rollbackFailures.Select(f => f.Message)), error.Target);
                throw error;
            }
            _done.Add(command);
            _undo.Add((undo?.Invoke(r) ?? Enumerable.Empty<NativeCommand>()).ToList());
            return r;
        }

        /// <summary>Undoes every applied step, newest first; returns the failures (and keeps going past them).</summary>
        public List<WgException> Rollback()
        {
            var record = new ChangeRecord { Action = _what, Undo = UndoCommands };
            _undo.Clear();
            return record.RunUndo(_runner);
        }

        /// <summary>A record of what was applied.</summary>
        public ChangeRecord ToRecord(string target, string action, string before, string after, IEnumerable<string> notes = null)
        {
            var undo = UndoCommands;
            return new ChangeRecord
            {
                Target = target, Action = action, Changed = _done.Count > 0, Before = before, After = after,
                Commands = _done.Select(c => c.CommandLine).ToArray(),
                Undo = undo, UndoCommands = undo.Select(c => c.CommandLine).ToArray(),
                Notes = (notes ?? Enumerable.Empty<string>()).ToArray(), Timestamp = DateTime.UtcNow,
            };
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
