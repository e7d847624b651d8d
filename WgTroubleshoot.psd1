@{
    RootModule           = 'WgTroubleshoot.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5c0f7d3e-2b8a-4f61-9d7e-8a4b1c2e6f90'
    Author               = 'WgTroubleshoot contributors'
    CompanyName          = 'WgTroubleshoot'
    Copyright            = '(c) WgTroubleshoot contributors. MIT licence.'
    Description          = 'Finds out why a WireGuard tunnel does not work and repairs it: live state, configuration, handshakes, traffic, firewall, forwarding, NAT and MTU, as PowerShell objects.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('WgTroubleshoot.format.ps1xml')
    CmdletsToExport      = @(
        'Add-WgFirewallRule'
        'Disable-WgForwarding'
        'Enable-WgForwarding'
        'Get-WgConfig'
        'Get-WgFirewallStatus'
        'Get-WgForwarding'
        'Get-WgInterface'
        'Get-WgLog'
        'Get-WgPeer'
        'Invoke-WgDiagnosis'
        'Invoke-WgRemediation'
        'Test-WgEndpoint'
        'Measure-WgPathMtu'
        'Repair-WgIssue'
        'Set-WgMtu'
        'Test-WgHandshake'
        'Update-WgEndpoint'
        'Trace-WgTraffic'
        'Test-WgConfig'
        'Compare-WgPeerConfig'
        'Export-WgSupportBundle'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('WireGuard', 'VPN', 'Troubleshooting', 'Networking', 'Firewall', 'MTU', 'Linux', 'Windows', 'PSEdition_Core', 'PSEdition_Desktop')
            LicenseUri   = 'https://github.com/wgtroubleshoot/WgTroubleshoot/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/wgtroubleshoot/WgTroubleshoot'
            ReleaseNotes = '0.1.0: first release. Get-WgInterface, Get-WgPeer, Test-WgHandshake and Get-WgConfig: WireGuard live state, handshake verdicts and wg-quick configuration as objects, with help. The remediation policy file (YAML) is read and validated. YamlDotNet and BouncyCastle load in a context of the module''s own, side by side with other versions that other modules load.'
        }
    }
}
