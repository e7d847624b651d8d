#requires -Version 7.0
# Help is real, complete and true to the code, as Get-Help shows it for every exported cmdlet.
# Runs against the staged module ($env:WGT_MODULE) and against the help test fixture: a
# signatures-only assembly whose help is generated from the same docs/ (see tests/HelpGen.Fixture).
# Each module is imported in a child pwsh (Get-HelpFacts.ps1) so that nothing stays loaded here.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'HelpTestSupport.ps1')
    $script:Targets = @()
    if ($env:WGT_MODULE -and (Test-Path $env:WGT_MODULE)) {
        $script:Targets += @{ Label = 'the staged module'; Facts = Get-HelpFacts $env:WGT_MODULE }
    }
    $fixtureRoot = Join-Path ([IO.Path]::GetTempPath()) "wgt-help-fixture-$PID"
    if (Test-Path $fixtureRoot) { Remove-Item $fixtureRoot -Recurse -Force }
    $script:Targets += @{ Label = 'the help fixture'; Facts = Get-HelpFacts (New-HelpFixtureModule $fixtureRoot) }
    Remove-Item $fixtureRoot -Recurse -Force -ErrorAction SilentlyContinue
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'HelpTestSupport.ps1')

    function ConvertTo-PipelineInput([bool] $ByValue, [bool] $ByPropertyName) {
        if ($ByValue -and $ByPropertyName) { 'True (ByValue, ByPropertyName)' }
        elseif ($ByValue) { 'True (ByValue)' }
        elseif ($ByPropertyName) { 'True (ByPropertyName)' }
        else { 'False' }
    }
    function ConvertTo-HelpPosition([int] $Position) { if ($Position -lt 0) { 'named' } else { "$Position" } }
}

Describe 'Help of <Label>' -ForEach $Targets {
    BeforeAll {
        $about = $Facts.AboutImported
    }

    It 'shows about_WgTroubleshoot once the module is imported' {
        $about | Should -Match 'TOPIC\s+about_WgTroubleshoot'
        $about | Should -Match 'SHORT DESCRIPTION'
        $about | Should -Match 'LONG DESCRIPTION'
    }

    It 'shows about_WgTroubleshoot from PSModulePath without importing the module' {
        if ($null -eq $Facts.AboutFromPath) { Set-ItResult -Skipped -Because 'the module is not laid out as <Name>/<Version>/' ; return }
        $Facts.AboutFromPath | Should -Match 'TOPIC\s+about_WgTroubleshoot'
    }

    It 'wraps about_WgTroubleshoot.help.txt at 80 columns' {
        @($Facts.AboutFileLines).Count | Should -BeGreaterThan 10 -Because 'en-US/about_WgTroubleshoot.help.txt must be next to the module'
        $long = @($Facts.AboutFileLines | Where-Object { $_.Length -gt 80 })
        $long | Should -BeNullOrEmpty
    }

    It 'documents every ErrorId the module defines in about_WgTroubleshoot' {
        $source = Get-Content -Raw (Join-Path $RepoRoot 'src/WgTroubleshoot/WgException.cs')
        $ids = [regex]::Matches($source, 'const string \w+ = "(\w+)"') | ForEach-Object { $_.Groups[1].Value }
        @($ids).Count | Should -BeGreaterThan 20 -Because 'the regex must find the ErrorIds, or the loop below checks nothing'
        foreach ($id in $ids) { $about | Should -Match "\b$id\b" -Because "ErrorId $id is stable API" }
    }

    Context '<CommandName>' -ForEach $Facts.Commands {
        It 'has real help, not the auto-generated kind' {
            $Synopsis | Should -Not -BeNullOrEmpty
            # Auto-generated help uses the syntax as the synopsis.
            $Synopsis | Should -Not -Match "^\s*$([regex]::Escape($CommandName))\s+\["
            $Synopsis.Trim() | Should -Not -Be $Syntax.Trim()
        }

        It 'has a description' {
            $Description | Should -Not -BeNullOrEmpty
        }

        It 'has at least two examples' {
            $ExampleCount | Should -BeGreaterOrEqual 2
        }

        It 'documents only parameters that exist' {
            $names = @($CodeParameters | ForEach-Object { $_.ParameterName })
            foreach ($p in $HelpParameters) { $p.ParameterName | Should -BeIn $names -Because "$CommandName help documents -$($p.ParameterName)" }
        }

        It 'has one syntax item per parameter set' {
            @($HelpSyntax).Count | Should -Be @($CodeSets).Count
        }

        It 'shows parameter set <SetName> with the mandatory flag, position and pipeline input of the code' -ForEach $CodeSets {
            $codeNames = @($Parameters | ForEach-Object { $_.ParameterName } | Sort-Object)
            $item = @($HelpSyntax | Where-Object { (@($_ | ForEach-Object { $_.ParameterName } | Sort-Object) -join ',') -eq ($codeNames -join ',') })
            $item.Count | Should -Be 1 -Because "one syntax item must list exactly $($codeNames -join ', ')"
            foreach ($p in $Parameters) {
                $h = $item[0] | Where-Object { $_.ParameterName -eq $p.ParameterName }
                $h.Required | Should -Be "$($p.Mandatory)".ToLowerInvariant() -Because "-$($p.ParameterName) in set $SetName"
                $h.Position | Should -Be (ConvertTo-HelpPosition $p.Position) -Because "-$($p.ParameterName) in set $SetName"
                $h.PipelineInput | Should -Be (ConvertTo-PipelineInput $p.ByValue $p.ByPropertyName) -Because "-$($p.ParameterName) in set $SetName"
            }
        }

        It 'documents -<ParameterName> with the type, aliases, mandatory flag, position and pipeline input of the code' -ForEach $CodeParameters {
            $h = @($HelpParameters | Where-Object { $_.ParameterName -eq $ParameterName })
            $h.Count | Should -Be 1 -Because "$CommandName help must document -$ParameterName once"
            $h = $h[0]
            $h.Description | Should -Not -BeNullOrEmpty
            $h.TypeName | Should -Be $TypeFullName
            $h.ParameterValue | Should -Be $TypeName
            (@($h.Aliases) -join ',') | Should -Be (@($Aliases) -join ',')
            # The parameters section shows one set's values; they must be those of one of the parameter's sets.
            $candidates = @($Sets | ForEach-Object {
                    '{0}|{1}|{2}' -f "$($_.Mandatory)".ToLowerInvariant(), (ConvertTo-HelpPosition $_.Position), (ConvertTo-PipelineInput $_.ByValue $_.ByPropertyName)
                })
            ('{0}|{1}|{2}' -f $h.Required, $h.Position, $h.PipelineInput) | Should -BeIn $candidates
        }
    }
}
