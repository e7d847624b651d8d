using System.Collections.Generic;
using System.Management.Automation;
using WgTroubleshoot.Forwarding;

namespace WgTroubleshoot.Commands
{
    /// <summary>Base of the cmdlets that change the host through the step remedies: ShouldProcess per step, privilege check before the first change, rollback on failure.</summary>
    public abstract class WgChangeCmdlet : WgCmdlet
    {
        /// <summary>Returns a ChangeRecord for every step (Changed = $false for those already in place).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>Writes the records of a remedy when -PassThru is given.</summary>
        protected void Output(IEnumerable<ChangeRecord> records)
        {
            if (!PassThru) return;
            foreach (var r in records) WriteObject(r);
        }
    }
}
