using System;

namespace WgTroubleshoot
{
    /// <summary>One change a repair cmdlet made (or would make, or found already in place).</summary>
    public sealed class ChangeRecord
    {
        /// <summary>What was changed: a sysctl key, a file path, a firewall table, an interface.</summary>
        public string Target { get; set; }
        /// <summary>What was done, in words or as the exact command.</summary>
        public string Action { get; set; }
        /// <summary>False when the target was already as wanted (nothing was done).</summary>
        public bool Changed { get; set; }
        public string Before { get; set; }
        public string After { get; set; }
        /// <summary>Commands that undo the change, in order.</summary>
        public string[] UndoCommands { get; set; } = new string[0];
        public DateTime Timestamp { get; set; } = DateTime.UtcNow;

        public override string ToString() => $"{Target}: {(Changed ? Action : "unchanged")}";
    }
}
