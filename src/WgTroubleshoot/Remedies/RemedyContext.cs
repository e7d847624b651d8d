using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Remedies
{
    /// <summary>
    /// What every remedy is given: the runner, the one transaction of this repair, the ShouldProcess callback
    /// (target, action; false under -WhatIf or when declined) and where to say things. The cmdlets build it
    /// from themselves; Repair-WgIssue and Invoke-WgRemediation from the repair they run.
    /// </summary>
    public sealed class RemedyContext
    {
        public RemedyContext(INativeRunner runner, Transaction transaction, Func<string, string, bool> shouldProcess,
            Action<string> verbose = null, Action<string> warn = null, Action<WgException> error = null)
        {
            Runner = runner ?? throw new ArgumentNullException(nameof(runner));
            Transaction = transaction ?? new Transaction(runner, verbose);
            ShouldProcess = shouldProcess ?? ((_, __) => true);
            Verbose = verbose ?? (_ => { });
            Warn = warn ?? (_ => { });
            Error = error ?? (ex => throw ex);
        }

        public INativeRunner Runner { get; }
        public Transaction Transaction { get; }
        public Func<string, string, bool> ShouldProcess { get; }
        public Action<string> Verbose { get; }
        public Action<string> Warn { get; }
        /// <summary>A non-terminating error (one item of several failed); throws by default.</summary>
        public Action<WgException> Error { get; }

        /// <summary>
        /// Applies the needed steps in order through the transaction. Each step is offered to ShouldProcess
        /// (-WhatIf shows each exact command or file edit and changes nothing); the privilege check runs before
        /// the first change; a failing step rolls back every change of the transaction. Returns a record per
        /// step: unchanged ones (already as wanted) first, then the applied ones.
        /// </summary>
        public List<ChangeRecord> Execute(string what, IList<RepairStep> steps)
        {
            var records = new List<ChangeRecord>();
            var applied = new List<ChangeRecord>();
            bool checkedPrivilege = false;
            foreach (var step in steps)
            {
                if (!step.Needed)
                {
                    Verbose($"{step.Record.Target}: already as wanted ({step.Record.After ?? "no change"}).");
                    step.Record.Changed = false;
                    records.Add(step.Record);
                    continue;
                }
                if (!ShouldProcess(step.Record.Target, step.Record.Action)) continue;
                if (!checkedPrivilege)
                {
                    Privilege.Demand(what);
                    checkedPrivilege = true;
                }
                step.Apply(Transaction);
                applied.Add(step.Record);
            }
            records.AddRange(applied);
            return records;
        }
    }
}
