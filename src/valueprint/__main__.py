from valueprint.cli import main

main()
