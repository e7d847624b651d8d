using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Bundle;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Writes everything a helper needs about this host's WireGuard setup into one JSON file, with every secret removed.</para>
    /// </summary>
    [Cmdlet(VerbsData.Export, "WgSupportBundle", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportWgSupportBundleCommand : WgCmdlet
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly List<string> _interfaces = new List<string>();
        private bool _all;

        /// <summary>The file to write (JSON, UTF-8).</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        /// <summary>Interface names (wildcards allowed); all interfaces when omitted.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Interface { get; set; }

        /// <summary>Log events logged at or after this time; the last hour when omitted.</summary>
        [Parameter]
        public DateTime? Since { get; set; }

        /// <summary>Overwrites an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Returns the file written.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            if (Interface == null) _all = true;
            else _interfaces.AddRange(Interface);
        }

        protected override void EndProcessing()
        {
            var path = GetUnresolvedProviderPathFromPSPath(Path);
            if (File.Exists(path) && !Force)
                ThrowTerminatingError(BundleFile.Exists(Path).ToErrorRecord());
            if (!ShouldProcess(path, "Write a WireGuard support bundle")) return;

            var table = SessionState.PSVariable.GetValue("PSVersionTable") as Hashtable;
            var options = new SupportBundleOptions
            {
                Interfaces = _all || _interfaces.Count == 0 ? null : _interfaces.Distinct().ToArray(),
                Since = Since ?? DateTime.Now.AddHours(-1),
                ModuleVersion = MyInvocation.MyCommand.Module?.Version?.ToString() ?? typeof(ExportWgSupportBundleCommand).Assembly.GetName().Version.ToString(),
                PowerShellVersion = table?["PSVersion"]?.ToString(),
                PowerShellEdition = table?["PSEdition"]?.ToString(),
            };
            var progress = new ProgressRecord(3, "Export-WgSupportBundle", "Starting");
            try
            {
                var collector = new SupportBundleCollector(Runner, WriteVerbose, (what, pct) =>
                {
                    progress.StatusDescription = what;
                    progress.PercentComplete = Math.Max(0, Math.Min(100, pct));
                    WriteProgress(progress);
                }, _stop.Token);
                var text = collector.Collect(options);
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
                if (_stop.IsCancellationRequested) return;
                if (collector.Redactions > 0)
                    WriteWarning($"{collector.Redactions} occurrence(s) of private or preshared keys were found outside the configuration files and replaced by \"(redacted)\".");
                BundleFile.Write(path, text, Force);
                WriteVerbose($"Wrote the support bundle {path} ({text.Length} characters, mode 0600).");
                if (PassThru) WriteObject(new FileInfo(path));
            }
            catch (WgException ex)
            {
                ThrowTerminatingError(ex.ToErrorRecord());
            }
        }

        protected override void StopProcessing() => _stop.Cancel();
    }
}
