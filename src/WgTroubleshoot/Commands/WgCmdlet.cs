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
        /// <summary>
        /// Runs a remediation cmdlet of this module in the current runspace with -PassThru -Confirm:$false (or only
        /// -WhatIf), from its name and validated parameters (never from text), and returns its change records.
        /// </summary>
        internal IList<ChangeRecord> InvokeRemediation(Diagnosis.RemediationCall call, bool whatIf)
        {
            using (var ps = PowerShell.Create(RunspaceMode.CurrentRunspace))
            {
                ps.AddCommand(call.Command).AddParameters((System.Collections.IDictionary)call.Parameters);
                if (whatIf) ps.AddParameter("WhatIf", true);
                else ps.AddParameter("PassThru", true).AddParameter("Confirm", false);
                var output = ps.Invoke();
                if (ps.HadErrors && ps.Streams.Error.Count > 0)
                    throw new WgException(ErrorIds.ChangeFailed, ErrorCategory.WriteError, $"'{call}' failed: {ps.Streams.Error[0].Exception.Message}", call.ToString(), ps.Streams.Error[0].Exception);
                return output.Select(o => o?.BaseObject).OfType<ChangeRecord>().ToList();
            }
        }

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
