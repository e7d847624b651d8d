using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Native;

namespace WgTroubleshoot
{
    /// <summary>
    /// What a changing cmdlet did (or found it did not need to do), and how to undo it. Every changing cmdlet
    /// of the module returns this type with -PassThru.
    /// </summary>
    public sealed class ChangeRecord
    {
        /// <summary>What was changed, e.g. "nftables: inet filter input" or "wg0".</summary>
        public string Target { get; set; }
        /// <summary>What the cmdlet set out to do, e.g. "Allow inbound UDP 51820".</summary>
        public string Action { get; set; }
        /// <summary>False when the state was already as wanted and nothing was run.</summary>
        public bool Changed { get; set; }
        /// <summary>The state before, in words (with the evidence).</summary>
        public string Before { get; set; }
        /// <summary>The state after, in words.</summary>
        public string After { get; set; }
        /// <summary>The exact native command lines that undo the change, in the order to run them.</summary>
        public string[] UndoCommands { get; set; } = new string[0];
        /// <summary>The commands that were run, in order.</summary>
        public string[] Commands { get; set; } = new string[0];
        /// <summary>Persistence and other things the user should know.</summary>
        public string[] Notes { get; set; } = new string[0];
        public DateTime Timestamp { get; set; } = DateTime.UtcNow;

        public override string ToString() => $"{Action} on {Target}: " + (Changed ? "changed" : "no change needed");
    }

    /// <summary>One native command: tool and arguments, shown exactly as it runs.</summary>
    public sealed class NativeCommand
    {
        public NativeCommand(string tool, params string[] arguments)
        {
            Tool = tool;
            Arguments = arguments ?? new string[0];
        }

        public string Tool { get; }
        public string[] Arguments { get; }
        public string CommandLine => NativeRunner.FormatCommandLine(Tool, Arguments);
        public override string ToString() => CommandLine;
        public override bool Equals(object obj) => obj is NativeCommand o && o.Tool == Tool && System.Linq.Enumerable.SequenceEqual(o.Arguments, Arguments);
        public override int GetHashCode() => string.Join("\0", new[] { Tool }.Concat(Arguments)).GetHashCode();
    }
}
