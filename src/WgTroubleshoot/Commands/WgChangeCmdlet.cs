using System.Collections.Generic;
using System.Management.Automation;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Forwarding;

namespace WgTroubleshoot.Commands
{
    /// <summary>Base of the cmdlets that change the host: ShouldProcess per step, privilege check before the first change, undo on failure.</summary>
    public abstract class WgChangeCmdlet : WgCmdlet
    {
        /// <summary>Returns a ChangeRecord for every step (Changed = $false for those already in place).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>
        /// Applies the needed steps in order. -WhatIf shows each exact command or file edit and changes nothing;
        /// the privilege check runs before the first change; a failing step undoes the ones before it.
        /// </summary>
        protected void Execute(string what, IList<RepairStep> steps)
        {
            var tx = new StepTransaction(WriteVerbose);
            bool checkedPrivilege = false;
            foreach (var step in steps)
            {
                if (!step.Needed)
                {
                    WriteVerbose($"{step.Record.Target}: already as wanted ({step.Record.After ?? "no change"}).");
                    step.Record.Changed = false;
                    if (PassThru) WriteObject(step.Record);
                    continue;
                }
                if (!ShouldProcess(step.Record.Target, step.Record.Action)) continue;
                if (!checkedPrivilege)
                {
                    Privilege.Demand(what);
                    checkedPrivilege = true;
                }
                tx.Apply(step.Record, step.Apply, step.Undo);
            }
            if (PassThru)
                foreach (var r in tx.Applied) WriteObject(r);
        }
    }
}
