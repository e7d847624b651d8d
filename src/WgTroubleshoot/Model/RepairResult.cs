namespace WgTroubleshoot
{
    /// <summary>What Repair-WgIssue did about one finding.</summary>
    public sealed class RepairResult
    {
        public string FindingId { get; set; }
        public string Cause { get; set; }
        public string Interface { get; set; }
        public string Peer { get; set; }
        /// <summary>The cmdlet call (or command) that was applied.</summary>
        public string Action { get; set; }
        public bool Changed { get; set; }
        /// <summary>The diagnosis no longer finds the cause, nothing new broke, and working sessions still work.</summary>
        public bool Verified { get; set; }
        public bool RolledBack { get; set; }
        /// <summary>Rollback steps that were refused on purpose, each with why (a file was edited after the repair wrote it, and that edit was kept).</summary>
        public string[] RollbackRefused { get; set; } = new string[0];
        public string Before { get; set; }
        public string After { get; set; }
        public string Error { get; set; }
        /// <summary>The changes made, each with its undo.</summary>
        public ChangeRecord[] Changes { get; set; } = new ChangeRecord[0];
        /// <summary>The exact commands that undo the repair, newest change first.</summary>
        public string[] UndoCommands { get; set; } = new string[0];

        public override string ToString()
            => $"{Interface} {Cause}: " + (Verified ? (Changed ? "repaired" : "nothing to change") : RolledBack ? "rolled back" : Error ?? "not verified");
    }
}
