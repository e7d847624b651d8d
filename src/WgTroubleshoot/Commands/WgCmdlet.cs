using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// Base of every cmdlet: one native runner that logs each command line at -Verbose, and the mapping of
    /// module errors to ErrorRecords.
    /// </summary>
    public abstract class WgCmdlet : PSCmdlet
    {
        /// <summary>The context a remedy runs in from this cmdlet: its runner, a new transaction, its ShouldProcess and streams.</summary>
        internal Remedies.RemedyContext RemedyContext(Func<string, string, bool> shouldProcess = null)
            => new Remedies.RemedyContext(Runner, new Changes.Transaction(Runner, WriteVerbose), shouldProcess ?? ((t, a) => ShouldProcess(t, a)),
                WriteVerbose, WriteWarning, ex => WriteError(ex.ToErrorRecord()));

        private INativeRunner _runner;

        /// <summary>For tests: replaces the runner of every new cmdlet instance.</summary>
        internal static Func<Action<string>, INativeRunner> RunnerFactory { get; set; }

        protected INativeRunner Runner
        {
            get
            {
                if (_runner != null) return _runner;
                // warnings of the file writer (a symlinked config written through, a world-writable directory)
                Changes.AtomicFile.WarningSink = WriteWarning;
                return _runner = RunnerFactory?.Invoke(WriteVerbose) ?? new NativeRunner(WriteVerbose);
            }
        }

        /// <summary>
        /// Verbose text. With -Debug and without -Verbose, PowerShell turns every verbose message into a prompt
        /// (Inquire), which fails in a non-interactive host (cron, a systemd timer, a remoting job): the messages go
        /// to the debug stream then, which -Debug shows without asking.
        /// </summary>
        public new void WriteVerbose(string text) => VerboseOrDebug(this, text);

        internal static void VerboseOrDebug(PSCmdlet cmdlet, string text)
        {
            var bound = cmdlet.MyInvocation.BoundParameters;
            if (Present(bound, "Debug") && !Present(bound, "Verbose")) cmdlet.WriteDebug(text);
            else cmdlet.WriteVerbose(text);
        }

        private static bool Present(System.Collections.Generic.IDictionary<string, object> bound, string name)
            => bound.TryGetValue(name, out var v) && (v is SwitchParameter s ? s.IsPresent : v is bool b && b);

        /// <summary>Writes a non-terminating error.</summary>
        protected void WriteWgError(WgException ex) => WriteError(ex.ToErrorRecord());

        /// <summary>
        /// Errors that make every further item fail the same way (no tool, no privilege) stop the cmdlet;
        /// the rest are written and the pipeline goes on.
        /// </summary>
        protected void Fail(WgException ex)
        {
            if (ex.Category == ErrorCategory.NotInstalled || ex.Category == ErrorCategory.PermissionDenied)
                ThrowTerminatingError(ex.ToErrorRecord());
            WriteWgError(ex);
        }
    }
}
