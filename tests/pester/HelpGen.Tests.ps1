#requires -Version 7.0
# The help generator refuses docs that disagree with the code, names the cmdlet and parameter, and
# writes nothing then; --new-markdown writes starters only where no doc exists.
# Runs against the test fixture (tests/HelpGen.Fixture), whose cmdlets have the documented signatures.

BeforeAll {
    . (Join-Path $PSScriptRoot 'HelpTestSupport.ps1')
    Initialize-HelpGen

    # A scratch copy of docs/ plus the fixture's own doc, for each test to break in its own way.
    function New-DocsCopy {
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("wgt-docs-" + [guid]::NewGuid().ToString('n'))
        $null = New-Item -ItemType Directory $dir
        Copy-FixtureDocs $dir
        $dir
    }

    # Removes a "### heading" section (up to the next ### or ## heading) from a markdown file.
    function Remove-Section([string] $Path, [string] $Heading) {
        $lines = Get-Content $Path
        $start = [array]::IndexOf($lines, $Heading)
        if ($start -lt 0) { throw "$Heading is not in $Path" }
        $end = $start + 1
        while ($end -lt $lines.Count -and $lines[$end] -notmatch '^#{2,3} ') { $end++ }
        $kept = @($lines[0..($start - 1)]) + @(if ($end -lt $lines.Count) { $lines[$end..($lines.Count - 1)] })
        Set-Content -Path $Path -Value $kept
    }

    function Invoke-Check([string] $Docs) {
        $out = Join-Path $Docs 'out'
        $r = Invoke-HelpGen @('--assembly', $FixtureDll, '--docs', $Docs, '--out', $out)
        $r | Add-Member -NotePropertyName HelpWritten -NotePropertyValue (Test-Path (Join-Path $out 'WgTroubleshoot.HelpFixture.dll-Help.xml')) -PassThru
    }
}

AfterAll {
    Get-ChildItem ([IO.Path]::GetTempPath()) -Directory -Filter 'wgt-docs-*' -ErrorAction SilentlyContinue | Remove-Item -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'HelpGen drift check' {
    It 'accepts the docs as they are and writes MAML and the about topic' {
        $docs = New-DocsCopy
        $r = Invoke-Check $docs
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $r.HelpWritten | Should -BeTrue
        Test-Path (Join-Path $docs 'out/about_WgTroubleshoot.help.txt') | Should -BeTrue
        [xml] $maml = Get-Content -Raw (Join-Path $docs 'out/WgTroubleshoot.HelpFixture.dll-Help.xml')
        $ns = @{ command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'; maml = 'http://schemas.microsoft.com/maml/2004/10' }
        $path = Select-Xml -Xml $maml -Namespace $ns -XPath "//command:command[command:details/command:name='Get-WgConfig']/command:parameters/command:parameter[maml:name='Path']"
        $path.Node.required | Should -Be 'true'
        $path.Node.position | Should -Be 'named'
        $path.Node.pipelineInput | Should -Be 'True (ByPropertyName)'
        $literal = Select-Xml -Xml $maml -Namespace $ns -XPath "//command:command[command:details/command:name='Get-WgConfig']/command:parameters/command:parameter[maml:name='LiteralPath']"
        $literal.Node.aliases | Should -Be 'PSPath, LP, FullName'
    }

    It 'fails, naming cmdlet and parameter, when a parameter section is removed' {
        $docs = New-DocsCopy
        Remove-Section (Join-Path $docs 'Get-WgPeer.md') '### -PublicKey'
        $r = Invoke-Check $docs
        $r.ExitCode | Should -Not -Be 0
        $r.Output | Should -Match 'Get-WgPeer: parameter -PublicKey is not documented'
        $r.HelpWritten | Should -BeFalse
    }

    It 'fails, naming cmdlet and parameter, when a documented parameter does not exist' {
        $docs = New-DocsCopy
        $file = Join-Path $docs 'Get-WgInterface.md'
        (Get-Content -Raw $file) -replace '### CommonParameters', "### -Bogus`n`nA parameter the cmdlet does not have.`n`n### CommonParameters" | Set-Content $file
        $r = Invoke-Check $docs
        $r.ExitCode | Should -Not -Be 0
        $r.Output | Should -Match 'Get-WgInterface: .*documents parameter -Bogus, which the cmdlet does not have'
        $r.HelpWritten | Should -BeFalse
    }

    It 'fails when WhatIf of a SupportsShouldProcess cmdlet is not documented' {
        $docs = New-DocsCopy
        Remove-Section (Join-Path $docs 'Set-WgHelpFixture.md') '### -WhatIf'
        $r = Invoke-Check $docs
        $r.ExitCode | Should -Not -Be 0
        $r.Output | Should -Match 'Set-WgHelpFixture: parameter -WhatIf is not documented'
    }

    It 'fails when a cmdlet has no doc' {
        $docs = New-DocsCopy
        Remove-Item (Join-Path $docs 'Get-WgConfig.md')
        $r = Invoke-Check $docs
        $r.ExitCode | Should -Not -Be 0
        $r.Output | Should -Match 'Get-WgConfig: the cmdlet has no documentation'
    }

    It 'fails when a doc describes a cmdlet that does not exist' {
        $docs = New-DocsCopy
        (Get-Content -Raw (Join-Path $docs 'Get-WgPeer.md')) -replace 'Get-WgPeer', 'Get-WgGhost' | Set-Content (Join-Path $docs 'Get-WgGhost.md')
        $r = Invoke-Check $docs
        $r.ExitCode | Should -Not -Be 0
        $r.Output | Should -Match 'documents cmdlet Get-WgGhost, which WgTroubleshoot.HelpFixture.dll does not contain'
    }

    It 'fails when a doc has no synopsis, no description, one example or an undescribed parameter' {
        $docs = New-DocsCopy
        $file = Join-Path $docs 'Get-WgPeer.md'
        Remove-Section $file '## SYNOPSIS'
        Remove-Section $file '## DESCRIPTION'
        Remove-Section $file '### Example 2: Find peers without a current session'
        Remove-Section $file '### Example 3: Find peers that never completed a handshake'
        Remove-Section $file '### Example 4: Get one peer by its public key'
        (Get-Content -Raw $file) -replace '(?s)(### -Interface\n).*?(```yaml)', "`$1`n`$2" | Set-Content $file
        $r = Invoke-Check $docs
        $r.ExitCode | Should -Not -Be 0
        $r.Output | Should -Match 'Get-WgPeer: Get-WgPeer.md has no synopsis'
        $r.Output | Should -Match 'Get-WgPeer: Get-WgPeer.md has no description'
        $r.Output | Should -Match 'Get-WgPeer: Get-WgPeer.md has 1 complete example'
        $r.Output | Should -Match 'Get-WgPeer: parameter -Interface has no description'
    }
}

Describe 'HelpGen --new-markdown' {
    It 'writes a PlatyPS-style starter for a cmdlet without a doc and leaves existing docs alone' {
        $docs = New-DocsCopy
        Remove-Item (Join-Path $docs 'Get-WgConfig.md')
        $before = Get-FileHash (Join-Path $docs 'Get-WgPeer.md')
        $r = Invoke-HelpGen @('--assembly', $FixtureDll, '--docs', $docs, '--new-markdown')
        $r.ExitCode | Should -Be 0 -Because $r.Output
        (Get-FileHash (Join-Path $docs 'Get-WgPeer.md')).Hash | Should -Be $before.Hash

        $starter = Get-Content -Raw (Join-Path $docs 'Get-WgConfig.md')
        $starter | Should -Match '(?m)^document type: cmdlet$'
        $starter | Should -Match '(?m)^PlatyPS schema version: 2024-05-01$'
        $starter | Should -Match '(?m)^title: Get-WgConfig$'
        foreach ($h in '## SYNOPSIS', '## SYNTAX', '## ALIASES', '## DESCRIPTION', '## EXAMPLES', '## PARAMETERS',
            '### -Interface', '### -Path', '### CommonParameters', '## INPUTS', '## OUTPUTS', '## NOTES', '## RELATED LINKS') {
            $starter | Should -Match "(?m)^$([regex]::Escape($h))\s*$"
        }
        ([regex]::Matches($starter, '(?m)^### Example \d')).Count | Should -Be 2
        ([regex]::Matches($starter, '(?m)^```yaml$')).Count | Should -Be 4
        $starter | Should -Match 'Get-WgConfig -Path <string\[\]> \[-ToolsVersion <Version>\] \[<CommonParameters>\]'
        $starter | Should -Match '### WgTroubleshoot.WgConfig'

        # A starter still has placeholders, so the check refuses it until someone writes the text.
        $check = Invoke-Check $docs
        $check.ExitCode | Should -Not -Be 0
        $check.Output | Should -Match 'Get-WgConfig: parameter -Path has no description'
    }

    It 'documents WhatIf and Confirm in a starter for a SupportsShouldProcess cmdlet' {
        $docs = New-DocsCopy
        Remove-Item (Join-Path $docs 'Set-WgHelpFixture.md')
        $r = Invoke-HelpGen @('--assembly', $FixtureDll, '--docs', $docs, '--new-markdown')
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $starter = Get-Content -Raw (Join-Path $docs 'Set-WgHelpFixture.md')
        $starter | Should -Match '(?m)^### -WhatIf$'
        $starter | Should -Match '(?m)^### -Confirm$'
        $starter | Should -Match '\[-WhatIf\] \[-Confirm\] \[<CommonParameters>\]'
    }
}
