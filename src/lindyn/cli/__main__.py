from lindyn.cli import main

main()
