using System;
using System.Collections.Generic;
using System.Linq;

namespace WgTroubleshoot.Lint
{
    /// <summary>One problem a rule found: where, what, and the fix. Severity and Cause default to the rule's.</summary>
    internal sealed class LintHit
    {
        internal LintHit(int? line, string message, string fix, string peer = null)
        {
            Line = line;
            Message = message;
            Fix = fix;
            Peer = peer;
        }

        internal int? Line { get; }
        internal string Message { get; }
        internal string Fix { get; }
        internal string Peer { get; }
        internal Severity? Severity { get; set; }

        /// <summary>For a folded hit: every item it stands for, and their lines.</summary>
        internal string[] Items { get; set; }
        internal int[] Lines { get; set; }

        /// <summary>For a hit folded over several peers: every peer's public key, in file order.</summary>
        internal string[] Peers { get; set; }
        internal Cause? Cause { get; set; }
    }

    /// <summary>A rule: its stable Id, its default severity and cause, and the check.</summary>
    internal sealed class LintRule
    {
        internal LintRule(string id, string name, Severity severity, Cause cause, Func<LintFile, IEnumerable<LintHit>> check, bool needsConfig = true)
        {
            Id = id;
            Name = name;
            Severity = severity;
            Cause = cause;
            Check = check;
            NeedsConfig = needsConfig;
        }

        internal string Id { get; }
        internal string Name { get; }
        internal Severity Severity { get; }
        internal Cause Cause { get; }

        /// <summary>The check; it runs only on a file that parsed unless <see cref="NeedsConfig"/> is false.</summary>
        internal Func<LintFile, IEnumerable<LintHit>> Check { get; }
        internal bool NeedsConfig { get; }

        /// <summary>The finding for a hit in <paramref name="file"/>: secrets redacted, severity and cause defaulted.</summary>
        internal ConfigFinding ToFinding(LintFile file, LintHit hit, LintFile other = null) => new ConfigFinding
        {
            Id = Id,
            Severity = (hit.Severity ?? Severity).ToString(),
            Cause = (hit.Cause ?? Cause).ToString(),
            Message = file.Clean(hit.Message, other),
            Fix = file.Clean(hit.Fix, other),
            File = file.Path,
            Line = hit.Line,
            Interface = file.Interface,
            Peer = file.IsSecret(hit.Peer) ? null : hit.Peer,
            Items = hit.Items ?? System.Array.Empty<string>(),
            Lines = hit.Lines ?? System.Array.Empty<int>(),
            Peers = hit.Peers?.Where(k => !file.IsSecret(k)).ToArray() ?? System.Array.Empty<string>(),
        };
    }
}
