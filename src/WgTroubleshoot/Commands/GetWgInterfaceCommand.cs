using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets the live WireGuard interfaces of this host.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "WgInterface")]
    [OutputType(typeof(WgInterface))]
    public sealed class GetWgInterfaceCommand : WgCmdlet
    {
        /// <summary>Interface names; wildcards are allowed. All interfaces when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Interface")]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                var reader = new WgStateReader(Runner);
                var devices = reader.Read(Name, WriteWgError);
                reader.AddLinkDetails(devices);
                foreach (var d in devices) WriteObject(d.Interface);
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }
    }
}
